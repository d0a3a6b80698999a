//! Shared helper of the e-card end-to-end tests: a fresh database (SQLite, or PostgreSQL with
//! SSCARD_TEST_DATABASE=postgres), the real router on 127.0.0.1:0 with a movable FixedClock,
//! one bank with an instant-issuance branch, staff and terminal logins, and holders with cards.
#![allow(dead_code)]

use serde_json::{Value, json};
use sscard_app::cards::ActionInput;
use sscard_app::{Ctx, admin, applications, cards, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::CardAction;
use sscard_domain::clock::FixedClock;
use sscard_domain::document::{DocType, make_resident_id};
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_domain::policy::Policy;
use sscard_gm::offline::{OfflineVerifier, PublishedKey, hex_ids};
use sscard_server::AppState;
use sscard_server::keys::KeyManager;
use sscard_store::{Bank, Branch, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use time::macros::date;

pub const PASSWORD: &str = "ecard-test-pass";
pub const REGION: &str = "350203";
pub const PIN: &str = "739164";

enum Db {
    Sqlite(sscard_store_sql::sqlite::TempDatabase),
    Postgres(sscard_store_sql::postgres::TempDatabase),
}

/// A holder with a card.
#[derive(Debug, Clone)]
pub struct Holder {
    pub person_id: String,
    pub card_no: String,
    /// Bearer token of the holder's login.
    pub token: String,
}

pub struct EcardApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<FixedClock>,
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyManager>,
    pub admin: String,
    pub clerk: String,
    pub terminal: String,
    /// The database URL, for a second process's view of it.
    pub url: String,
    seq: AtomicU16,
    server: tokio::task::JoinHandle<()>,
    _db: Db,
}

/// Stops a background task when its owner goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for EcardApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn backend() -> &'static str {
    match std::env::var("SSCARD_TEST_DATABASE").as_deref() {
        Ok("postgres") | Ok("postgresql") => "postgres",
        _ => "sqlite",
    }
}

pub fn ctx(now_ms: i64) -> Ctx {
    let mut ctx = Ctx::new(Actor::system("ecard-test"), now_ms, Policy::default());
    ctx.hash_iterations = 1000;
    ctx
}

/// A JSON answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.bytes));
        &self.json
    }
    pub fn code(&self) -> String {
        self.json["type"].as_str().unwrap_or("").trim_start_matches("urn:sscard:problem:").to_string()
    }
}

impl EcardApp {
    pub async fn spawn() -> EcardApp {
        Self::spawn_with(false).await
    }

    /// With the server's background loops running (jobs every hour, outbox tail).
    pub async fn spawn_with_scheduler() -> EcardApp {
        Self::spawn_with(true).await
    }

    async fn spawn_with(scheduler: bool) -> EcardApp {
        let (db, url) = match backend() {
            "postgres" => {
                let db = sscard_store_sql::postgres::TempDatabase::create()
                    .await
                    .expect("create a PostgreSQL test database");
                let url = db.url();
                (Db::Postgres(db), url)
            }
            _ => {
                let db = sscard_store_sql::sqlite::TempDatabase::new();
                let url = db.url();
                (Db::Sqlite(db), url)
            }
        };
        let store = sscard_store_sql::open(&url).await.expect("open store");
        let clock = Arc::new(FixedClock::at_date(date!(2026 - 03 - 02)));
        let keys = Arc::new(KeyManager::ephemeral());
        let mut state = AppState::new(store.clone(), clock.clone(), Policy::default()).with_keys(keys.clone());
        state.hash_iterations = 1000;
        let background = scheduler.then(|| sscard_server::scheduler::spawn(state.clone(), 3600));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let router = sscard_server::build_router(state);
        let server = tokio::spawn(async move {
            let _background = background.map(AbortOnDrop);
            axum::serve(listener, router).await.expect("serve");
        });
        let c = ctx(clock_now(&clock));
        let bank = BankCode::parse("ICBC").unwrap();
        admin::add_bank(
            store.as_ref(),
            &c,
            Bank { code: bank.clone(), name: "ICBC".into(), bin: Bin::parse("622202").unwrap() },
        )
        .await
        .expect("bank");
        admin::add_branch(
            store.as_ref(),
            &c,
            Branch {
                bank_code: bank,
                code: BranchCode::parse("ICBC-SM").unwrap(),
                name: "Siming".into(),
                region: RegionCode::parse(REGION).unwrap(),
                has_printer: true,
            },
        )
        .await
        .expect("branch");
        for (u, role) in [("admin", Role::Admin), ("clerk", Role::Clerk), ("gate1", Role::Terminal)] {
            admin::add_user(store.as_ref(), &c, u, PASSWORD, role, None, None).await.expect("user");
        }
        let mut app = EcardApp {
            base: format!("http://127.0.0.1:{port}/api/v1"),
            client: reqwest::Client::new(),
            clock,
            store,
            keys,
            admin: String::new(),
            clerk: String::new(),
            terminal: String::new(),
            url: url.clone(),
            seq: AtomicU16::new(1),
            server,
            _db: db,
        };
        app.admin = app.login("admin").await;
        app.clerk = app.login("clerk").await;
        app.terminal = app.login("gate1").await;
        app
    }

    pub fn now_ms(&self) -> i64 {
        clock_now(&self.clock)
    }
    pub fn advance_s(&self, s: i64) {
        self.clock.set(self.now_ms() + s * 1000);
    }

    pub async fn login(&self, username: &str) -> String {
        let r = self.post("/auth/login", None, json!({ "username": username, "password": PASSWORD })).await;
        r.expect(200)["token"].as_str().expect("token").to_string()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let bytes = resp.bytes().await.expect("body").to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, content_type, bytes, json }
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Registers a person (born 1990 + n days) and issues a card at the instant branch;
    /// `activate` also activates it. Creates a login of `role` linked to the person.
    pub async fn person_with_card(&self, role: Role, activate: bool) -> Holder {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let c = ctx(self.now_ms());
        let region = RegionCode::parse(REGION).unwrap();
        let birth = date!(1990 - 01 - 01) + time::Duration::days(i64::from(n) * 37);
        let input = RegistrationInput {
            doc_type: DocType::ResidentId,
            doc_number: make_resident_id(region, birth, n % 900 + 10),
            name: format!("测试{n}"),
            sex: None,
            birth_date: None,
            region,
            guardian_id: None,
            relationship_proof: None,
        };
        let person = persons::register(self.store.as_ref(), &c, input).await.expect("register");
        let card_no = self.instant_card(&person.id, AppKind::First).await;
        if activate {
            self.activate(&card_no).await;
        }
        let username = format!("user{n}");
        admin::add_user(self.store.as_ref(), &c, &username, PASSWORD, role, Some(person.id.clone()), None)
            .await
            .expect("user");
        let token = self.login(&username).await;
        Holder { person_id: person.id, card_no, token }
    }

    /// An instant (branch printer) application; answers the issued card number.
    pub async fn instant_card(&self, person_id: &str, kind: AppKind) -> String {
        let c = ctx(self.now_ms());
        let input = ApplicationInput {
            kind,
            channel: Channel::BranchInstant,
            bank_code: BankCode::parse("ICBC").unwrap(),
            branch_code: Some(BranchCode::parse("ICBC-SM").unwrap()),
            mail_address: None,
            reason: (kind == AppKind::Replacement).then_some(ReplacementReason::Lost),
        };
        let view = applications::apply(self.store.as_ref(), &c, person_id, input).await.expect("apply");
        view.application.card_no.expect("instant card")
    }

    pub async fn activate(&self, card_no: &str) {
        let c = ctx(self.now_ms());
        let input = ActionInput { pin: Some(PIN.into()), ..Default::default() };
        cards::act(self.store.as_ref(), &c, card_no, CardAction::Activate, input).await.expect("activate");
    }

    /// A QR token for `person_id` made by the holder of `token`.
    pub async fn qr(&self, token: &str, person_id: Option<&str>) -> Resp {
        let body = match person_id {
            Some(p) => json!({ "person_id": p }),
            None => json!({}),
        };
        self.post("/ecard/qr", Some(token), body).await
    }
    pub async fn qr_token(&self, token: &str) -> String {
        self.qr(token, None).await.expect(200)["token"].as_str().expect("token").to_string()
    }
    pub async fn verify(&self, qr: &str) -> Value {
        self.post("/ecard/verify", Some(&self.terminal), json!({ "token": qr })).await.expect(200).clone()
    }

    /// An offline verifier loaded like a terminal: keys and the full revocation list.
    pub async fn offline(&self) -> OfflineVerifier {
        let keys: Vec<PublishedKey> =
            serde_json::from_value(self.get("/ecard/keys", None).await.expect(200).clone()).expect("keys");
        let full = self.get("/revocations?since=0", None).await.expect(200).clone();
        let revoked =
            full["revoked"].as_array().expect("revoked").iter().map(|v| hex_ids::decode(v.as_str().unwrap()).unwrap());
        let mut v = OfflineVerifier::new(&keys, revoked, 30).expect("verifier");
        v.set_revocations_seq(full["next_since"].as_i64().expect("next_since") as u64);
        v
    }

    /// Applies the revocation changes after the verifier's sequence number. On PostgreSQL an
    /// event becomes visible to the feed once every older transaction of the cluster has ended
    /// (tests of other databases run in parallel), so changes are awaited up to five seconds.
    pub async fn sync(&self, v: &mut OfflineVerifier) -> Vec<Value> {
        let mut page = Value::Null;
        for _ in 0..100 {
            page = self.get(&format!("/revocations?since={}", v.revocations_seq()), None).await.expect(200).clone();
            if page["changes"].as_array().is_some_and(|c| !c.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let changes = page["changes"].as_array().expect("changes").clone();
        for c in &changes {
            let id = hex_ids::decode(c["ecard_id"].as_str().unwrap()).unwrap();
            if c["usable"] == true {
                v.apply_revocations([], [id]);
            } else {
                v.apply_revocations([id], []);
            }
        }
        v.set_revocations_seq(page["next_since"].as_i64().unwrap() as u64);
        changes
    }

    /// Committed events (waiting, like [`EcardApp::sync`], until `kind` is visible).
    pub async fn events_with(&self, kind: &str) -> Vec<sscard_store::Event> {
        let mut events = Vec::new();
        for _ in 0..100 {
            let mut tx = self.store.read().await.expect("read");
            events = tx.events_after(0, 10_000).await.expect("events");
            tx.commit().await.expect("commit");
            if events.iter().any(|e| e.kind == kind) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        events
    }

    pub fn now_s(&self) -> i64 {
        self.now_ms() / 1000
    }
}

fn clock_now(clock: &FixedClock) -> i64 {
    use sscard_domain::clock::Clock as _;
    clock.now_ms()
}
