//! The national hub over HTTP (`serve --hub`, docs/NATION.md): the public list of deployments
//! without secrets, deployment bearer authentication, claims, keys unique in the nation and
//! the merged trust list. A hub-mode server of its own on a fresh database (SQLite, or
//! PostgreSQL with SSCARD_TEST_DATABASE=postgres).

use serde_json::{Value, json};
use sscard_app::Ctx;
use sscard_app::hub::{self, IndexKey};
use sscard_domain::access::Actor;
use sscard_domain::clock::{Clock as _, FixedClock};
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::{DeploymentCode, NationalEvent};
use sscard_server::AppState;
use sscard_store::Store;
use std::sync::Arc;

/// The test database, dropped after the server.
#[allow(dead_code)]
enum Db {
    Sqlite(sscard_store_sql::sqlite::TempDatabase),
    Postgres(sscard_store_sql::postgres::TempDatabase),
}

struct Hub {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    key: IndexKey,
    /// Secrets of the registered deployments XM and FZ.
    xm: String,
    fz: String,
    server: tokio::task::JoinHandle<()>,
    _db: Db,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn spawn_hub() -> Hub {
    let (db, url) = if std::env::var("SSCARD_TEST_DATABASE").as_deref() == Ok("postgres") {
        let db = sscard_store_sql::postgres::TempDatabase::create().await.expect("create a PostgreSQL test database");
        let url = db.url();
        (Db::Postgres(db), url)
    } else {
        let db = sscard_store_sql::sqlite::TempDatabase::new();
        let url = db.url();
        (Db::Sqlite(db), url)
    };
    let master = sscard_server::keys::MasterKey::ephemeral();
    let store = sscard_store_sql::open(&url, master.data_keys()).await.expect("open the hub's store");
    let clock = Arc::new(FixedClock::at_date(time::macros::date!(2026 - 03 - 02)));
    let key = master.national_index_key();
    let state = AppState::new(store.clone(), clock.clone(), Default::default()).with_hub(Some(key.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
    let router = sscard_server::build_router(state);
    let server = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .expect("serve");
    });
    let ctx = Ctx::new(Actor::system("test"), clock.now_ms(), Default::default());
    let mut secrets = Vec::new();
    for (code, regions) in [("XM", "3502"), ("FZ", "3501,3503")] {
        let info = parse_deployment(code, &format!("{code} card office"), regions, &format!("https://{code}.example"))
            .expect("deployment");
        secrets.push(hub::add_deployment(store.as_ref(), &ctx, info).await.expect("add deployment").secret);
    }
    let fz = secrets.pop().expect("FZ");
    let xm = secrets.pop().expect("XM");
    Hub { base, client: reqwest::Client::new(), store, key, xm, fz, server, _db: db }
}

impl Hub {
    async fn call(&self, method: &str, path: &str, bearer: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = if method == "POST" { self.client.post(&url) } else { self.client.get(&url) };
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_are_listed_without_secrets() {
    let h = spawn_hub().await;
    let (status, body) = h.call("GET", "/deployments", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([
            { "code": "FZ", "name": "FZ card office", "regions": ["3501", "3503"], "url": "https://FZ.example" },
            { "code": "XM", "name": "XM card office", "regions": ["3502"], "url": "https://XM.example" },
        ])
    );
    let text = body.to_string();
    assert!(!text.contains(&h.xm[3..]) && !text.contains("secret"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_routes_need_a_deployment_secret() {
    let h = spawn_hub().await;
    let claim = json!({ "person_index": "ab".repeat(32), "person_id": "p1", "application_id": "a1" });
    let wrong = format!("XM.{}", "0".repeat(64));
    let other_code = format!("FZ.{}", &h.xm[3..]);
    for bearer in [None, Some(wrong.as_str()), Some("XM"), Some(other_code.as_str())] {
        let (status, body) = h.call("GET", "/hub/index-key", bearer, None).await;
        assert_eq!(status, 401, "{bearer:?}: {body}");
        assert_eq!(body["status"], 401, "problem+json: {body}");
        let (status, _) = h.call("POST", "/hub/claims", bearer, Some(claim.clone())).await;
        assert_eq!(status, 401, "{bearer:?}");
        let (status, _) = h.call("POST", "/hub/keys", bearer, Some(json!([]))).await;
        assert_eq!(status, 401, "{bearer:?}");
    }
    let (status, body) = h.call("GET", "/hub/index-key", Some(&h.xm), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key_hex"], h.key.hex());
    assert_eq!(body["key_hex"].as_str().map(str::len), Some(32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_go_then_wait_for_the_holder() {
    let h = spawn_hub().await;
    let ix = h.key.person_index("350203198005179011");
    let claim = |app: &str| json!({ "person_index": ix, "person_id": format!("p-{app}"), "application_id": app });
    let (status, body) = h.call("POST", "/hub/claims", Some(&h.xm), Some(claim("a1"))).await;
    assert_eq!((status, body.clone()), (200, json!({ "decision": "go" })), "{body}");
    let (status, body) = h.call("POST", "/hub/claims", Some(&h.fz), Some(claim("f1"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "wait");
    assert_eq!(body["held_by"], "XM");
    assert!(body["remote_stop_id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    // On PostgreSQL the outbox shows a commit once no older transaction runs: wait for it.
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = hub::commands_after(h.store.as_ref(), 0, 100).await.expect("commands");
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].deployment, "XM");
    assert!(sent[0].body.contains("\"command\":\"release_person\""), "{}", sent[0].body);
    // Bad fields are 400 naming the field, unknown fields refused; nothing written.
    let (status, body) = h
        .call(
            "POST",
            "/hub/claims",
            Some(&h.xm),
            Some(json!({ "person_index": "XYZ", "person_id": "p", "application_id": "a" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "person_index", "{body}");
    let mut extra = claim("a2");
    extra["card_no"] = json!("1");
    assert_eq!(h.call("POST", "/hub/claims", Some(&h.xm), Some(extra)).await.0, 400);
    assert_eq!(hub::commands_after(h.store.as_ref(), 0, 100).await.expect("commands").len(), 1);
}

fn pem() -> String {
    sscard_gm::sm2::SigningKey::generate().verifying_key().to_spki_pem()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_unique_in_the_nation_and_listed_with_their_deployment() {
    let h = spawn_hub().await;
    // Each deployment learns its key id range: XM was registered first, FZ second.
    let (status, xm) = h.call("GET", "/hub/key-ids", Some(&h.xm), None).await;
    assert_eq!(status, 200, "{xm}");
    assert_eq!(xm, json!({ "deployment": "XM", "ordinal": 1, "first": 1_000_001, "last": 2_000_000 }));
    let (status, fz) = h.call("GET", "/hub/key-ids", Some(&h.fz), None).await;
    assert_eq!(status, 200, "{fz}");
    assert_eq!((fz["first"].as_i64(), fz["last"].as_i64()), (Some(2_000_001), Some(3_000_000)));
    assert_eq!(h.call("GET", "/hub/key-ids", None, None).await.0, 401);

    let pem = pem();
    let key = |id: u32| json!({ "key_id": id, "public_key_pem": pem, "not_before": 100, "not_after": 200 });
    // Both deployments' first keys are taken: no collision.
    let (status, body) = h.call("POST", "/hub/keys", Some(&h.xm), Some(json!([key(1_000_001), key(1_000_002)]))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = h.call("POST", "/hub/keys", Some(&h.fz), Some(json!([key(2_000_001)]))).await;
    assert_eq!(status, 200, "{body}");
    // An id outside the publisher's range is 409, XM's own ids from FZ included; nothing stored.
    for ids in [vec![1], vec![2_000_002, 1_000_002], vec![3_000_001]] {
        let keys: Vec<Value> = ids.iter().map(|id| key(*id)).collect();
        let (status, body) = h.call("POST", "/hub/keys", Some(&h.fz), Some(json!(keys))).await;
        assert_eq!(status, 409, "{ids:?}: {body}");
        assert_eq!(body["type"], "urn:sscard:problem:key_id_out_of_range", "{body}");
    }
    let bad = json!([{ "key_id": 2_000_003, "public_key_pem": "not a key", "not_before": 1, "not_after": 2 }]);
    assert_eq!(h.call("POST", "/hub/keys", Some(&h.fz), Some(bad)).await.0, 400);
    let truncated = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE\n-----END PUBLIC KEY-----";
    let bad = json!([{ "key_id": 2_000_003, "public_key_pem": truncated, "not_before": 1, "not_after": 2 }]);
    assert_eq!(h.call("POST", "/hub/keys", Some(&h.fz), Some(bad)).await.0, 400, "not an SM2 key");
    let (status, body) = h.call("GET", "/ecard/keys", None, None).await;
    assert_eq!(status, 200, "{body}");
    let seen: Vec<(i64, &str, &str)> = body
        .as_array()
        .expect("a list")
        .iter()
        .map(|k| {
            (
                k["key_id"].as_i64().unwrap_or(-1),
                k["deployment"].as_str().unwrap_or(""),
                k["region"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(seen, [(1_000_001, "XM", "3502"), (1_000_002, "XM", "3502"), (2_000_001, "FZ", "3501,3503")]);
}

fn ecard_event(d: &str, seq: i64, ecard_id: &str, usable: bool) -> NationalEvent {
    NationalEvent {
        deployment: DeploymentCode::parse(d).expect("code"),
        seq,
        at_ms: seq,
        kind: if usable { "ecard.restored" } else { "ecard.stopped" }.into(),
        entity: "ecard".into(),
        entity_id: ecard_id.into(),
        person_id: "p".into(),
        person_index: Some("cd".repeat(32)),
        region: "350200".into(),
        payload: json!({ "ecard_id": ecard_id, "usable": usable }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_are_merged_from_every_deployment() {
    let h = spawn_hub().await;
    let (e1, e2) = ("a1".repeat(16), "b2".repeat(16));
    for (d, seq, id, usable) in [("XM", 1, &e1, false), ("FZ", 1, &e2, false), ("XM", 2, &e1, true)] {
        let ev = ecard_event(d, seq, id, usable);
        assert!(hub::apply_event(h.store.as_ref(), &format!("{d}:{seq}"), &ev, 1).await.expect("apply"));
    }
    let (mut status, mut body) = (0, Value::Null);
    for _ in 0..200 {
        (status, body) = h.call("GET", "/revocations", None, None).await;
        if body["next_since"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["full"], true);
    assert_eq!(body["revoked"], json!([e2]));
    assert_eq!(body["next_since"], 3);
    let (status, body) = h.call("GET", "/revocations?since=1", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["changes"],
        json!([
            { "seq": 2, "ecard_id": e2, "usable": false, "deployment": "FZ" },
            { "seq": 3, "ecard_id": e1, "usable": true, "deployment": "XM" },
        ])
    );
    assert_eq!(h.call("GET", "/revocations?since=-1", None, None).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_on_its_own_serves_no_hub_routes() {
    let app = crate::helpers::TestApp::spawn().await;
    app.get(None, "/deployments").await.expect(404);
    app.get(None, "/hub/index-key").await.expect(404);
}
