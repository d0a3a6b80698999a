//! The national e-card trust list (issue 13 item 5) with the real binary: a hub and two
//! deployments XM and FZ, each signing with keys of the range the hub gave it; `sscard terminal
//! sync --server HUB` takes every deployment's keys and the merged revocation feed, and
//! `sscard terminal verify` then checks both deployments' QR codes with no network; an e-card
//! FZ suspends is refused offline once the hub's feed has it (FZ's relay, JetStream, the hub).

use super::{Api, Nation, PASSWORD, send};
use crate::helpers::{Db, exit, ok, sscard};
use serde_json::{Value, json};
use sscard_domain::document::make_resident_id;
use sscard_domain::ids::RegionCode;
use std::time::{Duration, Instant};

/// How long FZ's suspension may take to reach the hub's feed.
const FEED_TIMEOUT: Duration = Duration::from_secs(60);

/// A QR code and what the test needs of it.
struct Qr {
    token: String,
    /// A moment inside its lifetime, for `terminal verify --now`.
    at: i64,
    card: String,
}

/// A holder of `region` with an active card at `api`'s deployment and a login; their QR code.
async fn holder_qr(api: &Api, region: &str, branch: &str, seq: u16) -> Qr {
    let doc = make_resident_id(RegionCode::parse(region).expect("region"), time::macros::date!(1985 - 06 - 01), seq);
    let person = api.register(&doc, region).await;
    let card = api.active_card(&person, branch).await;
    let user = format!("holder{seq}");
    let body = json!({ "username": user, "password": PASSWORD, "role": "holder", "person_id": person });
    let (status, added) = api.post(&api.admin, "/users", Some(body)).await;
    assert_eq!(status, 201, "{added}");
    let login = api.http.post(format!("{}/api/v1/auth/login", api.base));
    let (status, login) = send(login.json(&json!({ "username": user, "password": PASSWORD }))).await;
    assert_eq!(status, 200, "{login}");
    let (status, qr) = api.post(login["token"].as_str().expect("token"), "/ecard/qr", None).await;
    assert_eq!(status, 200, "{qr}");
    let at = qr["expires_at"].as_i64().expect("expires_at") - 30;
    Qr { token: qr["token"].as_str().expect("token").to_string(), at, card }
}

fn key_id(token: &str) -> u32 {
    sscard_gm::token::decode_token(token).expect("a QR token").claims().key_id
}

/// `sscard terminal verify` of `qr` against `file`: the exit code and the printed verdict.
fn verify_offline(db: &Db, file: &str, qr: &Qr) -> (Option<i32>, Value) {
    let o = sscard(db, &["terminal", "verify", &qr.token, "--file", file, "--now", &qr.at.to_string()], None);
    let verdict = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), verdict)
}

#[test]
fn a_terminal_synced_at_the_hub_verifies_every_deployments_qr_codes_offline() {
    let Some(nation) = Nation::start() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (xm_qr, fz_qr, fz) = rt.block_on(async {
        let xm = Api::login(nation.xm.url()).await;
        let fz = Api::login(nation.fz.url()).await;
        (holder_qr(&xm, "350203", "ICBC-XM", 501).await, holder_qr(&fz, "350102", "ICBC-FZ", 503).await, fz)
    });
    // XM was registered first: its keys are 1000001.., FZ's 2000001..
    assert_eq!((key_id(&xm_qr.token), key_id(&fz_qr.token)), (1_000_001, 2_000_001));

    let file = std::env::temp_dir().join(format!("sscard-trust-{}.json", std::process::id()));
    let file = file.to_str().expect("a path").to_string();
    let hub = nation.hub.url();
    let synced = ok(&sscard(&nation.hub_db, &["terminal", "sync", "--server", &hub, "--file", &file], None));
    assert!(synced.contains(": 2 key(s)"), "{synced}");
    for qr in [&xm_qr, &fz_qr] {
        let (code, verdict) = verify_offline(&nation.hub_db, &file, qr);
        assert_eq!(code, Some(0), "{verdict}");
        assert_eq!(verdict["valid"], true, "{verdict}");
    }
    // FZ suspends its holder's card: once the hub's feed has it, the next sync refuses the code.
    rt.block_on(async {
        let (status, body) = fz.post(&fz.clerk, &format!("/cards/{}/suspend", fz_qr.card), None).await;
        assert_eq!(status, 200, "{body}");
    });
    let started = Instant::now();
    let verdict = loop {
        ok(&sscard(&nation.hub_db, &["terminal", "sync", "--server", &hub, "--file", &file], None));
        let (code, verdict) = verify_offline(&nation.hub_db, &file, &fz_qr);
        if code == Some(1) {
            break verdict;
        }
        assert!(started.elapsed() < FEED_TIMEOUT, "FZ's suspension never reached the hub's feed: {verdict}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(verdict["reason"], "revoked", "{verdict}");
    let o = sscard(
        &nation.hub_db,
        &["terminal", "verify", &xm_qr.token, "--file", &file, "--now", &xm_qr.at.to_string()],
        None,
    );
    exit(&o, 0);
    let _ = std::fs::remove_file(&file);
}
