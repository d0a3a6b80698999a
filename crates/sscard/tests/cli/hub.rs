//! `sscard hub add-deployment` prints a secret once, `sscard hub deployments` lists the
//! deployment without it, and the secret then authenticates at `sscard serve --hub`;
//! `sscard hub clearing --day` prints a day of the hub's clearing between deployments.

use crate::helpers::{Db, command, err, exit, free_port, ok, open, rt, run};
use async_trait::async_trait;
use sscard_app::Ctx;
use sscard_app::nation_medical::{self as nm, Decision, MedicalDecider};
use sscard_domain::access::{Actor, Role};
use sscard_domain::ids::RegionCode;
use sscard_domain::medical::{Locality, Split};
use sscard_domain::nation::medical::{Decided, Presented, RemoteBill};
use sscard_domain::nation::wire::DeploymentCode;
use sscard_domain::policy::Policy;
use sscard_store::Store;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn add_deployment_prints_a_secret_that_authenticates_at_the_hub() {
    let db = Db::new();
    let args = [
        "hub",
        "add-deployment",
        "--code",
        "XM",
        "--name",
        "Xiamen",
        "--regions",
        "3502,3505",
        "--url",
        "https://xm.example",
    ];
    let secret = ok(&run(&db, &args)).trim().to_string();
    let (code, hex) = secret.split_once('.').expect("CODE.SECRET");
    assert_eq!(code, "XM");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    // The same code again is refused; a bad field is named.
    let again = run(&db, &args);
    assert_ne!(again.status.code(), Some(0));
    assert!(err(&again).contains("already registered"), "{}", err(&again));
    let bad =
        run(&db, &["hub", "add-deployment", "--code", "xm", "--name", "X", "--regions", "3502", "--url", "https://x"]);
    assert!(err(&bad).contains("bad code"), "{}", err(&bad));

    let listed = ok(&run(&db, &["hub", "deployments"]));
    assert_eq!(listed.trim(), "XM\t3502,3505\thttps://xm.example\tXiamen");
    assert!(!listed.contains(hex));

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = command(&db, &["serve", "--hub", "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sscard serve --hub");
    let started = Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "sscard serve --hub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let get = |bearer: &str| {
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .get(format!("http://{listen}/api/v1/hub/index-key"))
                .bearer_auth(bearer)
                .send()
                .await
                .expect("GET index-key");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        })
    };
    let (status, body) = get(&secret);
    let (wrong, _) = get(&format!("XM.{}", "0".repeat(64)));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("key_hex"), "{body}");
    assert_eq!(wrong, 401);
}

/// A deciding deployment that pays the whole bill from its pool (what it owes the origin is
/// the bill's amount) and gives it all back on a refund.
#[derive(Default)]
struct PaysInFull {
    amounts: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

fn decision(to: &DeploymentCode, bill_id: &str, amount_fen: i64) -> Decision {
    let split = Split {
        bill_fen: amount_fen,
        pool_fen: amount_fen,
        account_fen: 0,
        self_pay_fen: 0,
        deductible_applied_fen: 0,
        ratio_bp: 10_000,
        locality: Locality::CrossProvince,
    };
    Decision {
        settlement_id: format!("{to}-{bill_id}"),
        decider: to.clone(),
        card_no: "X00000001".into(),
        insured_region: "350203".into(),
        decided: Decided { split, has_bank_account: false },
        refunded_at_ms: None,
    }
}

#[async_trait]
impl MedicalDecider for PaysInFull {
    async fn settle(
        &self,
        to: &DeploymentCode,
        _from: &DeploymentCode,
        bill: &RemoteBill,
    ) -> sscard_store::Result<Decision> {
        self.amounts.lock().expect("amounts").insert(bill.bill_id.clone(), bill.amount_fen);
        Ok(decision(to, &bill.bill_id, bill.amount_fen))
    }
    async fn refund(
        &self,
        to: &DeploymentCode,
        _from: &DeploymentCode,
        _hospital: &str,
        bill_id: &str,
    ) -> sscard_store::Result<Decision> {
        let amount = self.amounts.lock().expect("amounts").get(bill_id).copied().expect("a settled bill");
        Ok(decision(to, bill_id, amount))
    }
}

fn code(s: &str) -> DeploymentCode {
    DeploymentCode::parse(s).expect("code")
}

fn hub_ctx(now_ms: i64) -> Ctx {
    let actor = Actor { name: "hub".into(), role: Role::Admin, person_id: None, bank_code: None };
    Ctx::new(actor, now_ms, Policy::default())
}

/// The hub passes `from`'s bill of `amount_fen` to `decider` on the day of `now_ms`.
async fn settle(store: &dyn Store, link: &PaysInFull, now_ms: i64, route: (&str, &str), bill: (&str, i64)) {
    let bill = RemoteBill {
        bill_id: bill.0.into(),
        amount_fen: bill.1,
        hospital: "H-0001".into(),
        institution_region: RegionCode::parse("110105").expect("region"),
        presented: Presented::Qr { token: "qr".into(), key_id: 1_000_001 },
    };
    nm::settle_at_hub(store, &hub_ctx(now_ms), &code(route.0), &code(route.1), &bill, link).await.expect("settle");
}

/// The table's cells, line by line, after its first line.
fn cells(table: &str) -> Vec<Vec<String>> {
    table.lines().skip(1).map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}

#[test]
fn hub_clearing_prints_each_pair_gross_each_way_and_net_and_positions_summing_to_zero() {
    let db = Db::new();
    for (c, regions) in [("XM", "3502"), ("BJ", "1101"), ("FZ", "3501")] {
        let url = format!("https://{}.example", c.to_lowercase());
        ok(&run(&db, &["hub", "add-deployment", "--code", c, "--name", c, "--regions", regions, "--url", &url]));
    }
    // Noon in China on 2026-12-02, and the next day.
    let (day, next) = (1_796_184_000_000, 1_796_184_000_000 + 86_400_000);
    rt().block_on(async {
        let (store, link) = (open(&db).await, PaysInFull::default());
        let s = store.as_ref();
        settle(s, &link, day, ("BJ", "XM"), ("b-1", 122_000)).await; // XM owes BJ
        settle(s, &link, day, ("XM", "BJ"), ("b-2", 30_000)).await; // BJ owes XM
        settle(s, &link, day, ("BJ", "FZ"), ("b-3", 5_000)).await; // FZ owes BJ,
        settle(s, &link, day, ("BJ", "FZ"), ("b-3", 5_000)).await; // the same bill again: no entry,
        nm::refund_at_hub(s, &hub_ctx(day), &code("BJ"), "H-0001", "b-3", &link).await.expect("refund"); // back
        settle(s, &link, next, ("XM", "FZ"), ("b-4", 7_000)).await; // another day
        store.close().await;
    });

    let said = ok(&run(&db, &["hub", "clearing", "--day", "2026-12-02"]));
    assert!(said.starts_with("clearing of 2026-12-02: 4 entries, 2 pairs"), "{said}");
    let header = ["debtor", "creditor", "debtor", "owed", "creditor", "owed", "net", "entries"];
    let positions = ["positions", "(positive:", "the", "hub", "owes", "the", "deployment)"];
    let want: Vec<Vec<&str>> = vec![
        header.to_vec(),
        // A pair that comes out even: its lower code as debtor, 0 net, the gross each way kept.
        vec!["BJ", "FZ", "5000", "5000", "0", "2"],
        vec!["XM", "BJ", "122000", "30000", "92000", "2"],
        positions.to_vec(),
        vec!["BJ", "92000"],
        vec!["FZ", "0"],
        vec!["XM", "-92000"],
        vec!["sum", "0"],
    ];
    assert_eq!(cells(&said), want, "{said}");

    let other = ok(&run(&db, &["hub", "clearing", "--day", "2026-12-03"]));
    assert_eq!(cells(&other)[1], ["FZ", "XM", "7000", "0", "7000", "1"], "{other}");
    assert_eq!(cells(&other)[5], ["sum", "0"], "{other}");
    let empty = ok(&run(&db, &["hub", "clearing", "--day", "2026-12-01"]));
    assert!(empty.starts_with("clearing of 2026-12-01: 0 entries, 0 pairs"), "{empty}");
    assert_eq!(cells(&empty), [header.to_vec(), positions.to_vec(), vec!["sum", "0"]], "{empty}");

    let bad = run(&db, &["hub", "clearing", "--day", "2026-02-30"]);
    exit(&bad, 1);
    assert!(err(&bad).contains("bad day"), "{}", err(&bad));
}
