//! One card for everything through the `sscard` binary on a temporary SQLite file (PostgreSQL
//! with SSCARD_TEST_DATABASE=postgres): `operator
//! add`, `terminal add` (the secret printed once), `terminal simulate --offline` against a
//! running `sscard serve` that is killed with SIGKILL in the middle of the stream and started
//! again, the same stream re-sent (every line already applied answers `duplicate`), and
//! `ledger check` clean after the crash and after the restart, and exit 1 once the books are
//! edited behind sscard's back.

use crate::helpers::{Db, command, free_port, ok, open, rt, run, serve, text};
use sscard_app::Ctx;
use sscard_app::onecard::{Presentation, transit};
use sscard_domain::access::{Actor, Role};
use sscard_domain::money::Fen;
use sscard_domain::policy::Policy;
use sscard_domain::transit::TopupSource;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// (number of transfers, their sum in fen).
async fn transfer_totals(db: &Db) -> (i64, i64) {
    let store = open(db).await;
    let mut tx = store.read().await.expect("tx");
    let totals = tx.transfer_totals().await.expect("totals");
    drop(tx);
    store.close().await;
    totals
}

/// The count printed by the simulator for an outcome line such as `duplicate already_applied`.
fn count_of(out: &str, what: &str) -> i64 {
    out.lines()
        .filter_map(|l| l.trim().split_once("  ").map(|(n, w)| (n.trim(), w.trim())))
        .find(|(_, w)| *w == what)
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn offline_batches_survive_sigkill_and_the_books_stay_clean() {
    let db = Db::new();
    ok(&run(&db, &["demo"]));
    ok(&run(
        &db,
        &["operator", "add", "--code", "XM-FERRY", "--name", "厦门轮渡", "--kind", "transit", "--region", "350200"],
    ));
    let out =
        ok(&run(&db, &["terminal", "add", "--operator", "XM-FERRY", "--scenario", "transit", "--region", "350200"]));
    let secret = out.lines().find_map(|l| l.strip_prefix("secret ")).expect("the secret is printed").to_string();
    assert!(secret.starts_with("sst_"));
    let listed = ok(&run(&db, &["terminal", "list"]));
    assert!(listed.contains("XM-FERRY") && !listed.contains(&secret), "{listed}");
    // The card office's desk pays in a float for the cash top-ups below; the same key again
    // moves nothing.
    let float = ["ledger", "float", "--owner", "OFFICE", "--amount-fen", "1000000", "--key", "cli-float"];
    let out = ok(&run(&db, &float));
    // The demo paid 1,000,000 fen in already.
    assert!(
        out.contains("1000000 fen from clearing:FLOAT-OFFICE into cash:OFFICE; the float holds 2000000 fen"),
        "{out}"
    );
    assert!(ok(&run(&db, &float)).contains("already recorded: nothing moved"));
    // The demo's own morning of uses moved money already: count from here.
    let (demo_transfers, demo_total) = rt().block_on(transfer_totals(&db));

    // Every active demo card gets 20 yuan in cash: 100 rides of 2 yuan at most.
    let cards: Vec<String> = rt().block_on(async {
        let store = open(&db).await;
        let mut tx = store.read().await.expect("tx");
        let mut found = Vec::new();
        for p in tx.list_persons(&sscard_store::Page::first(500)).await.expect("persons") {
            for c in tx.cards_of_person(&p.id).await.expect("cards") {
                if c.status == sscard_domain::card::CardStatus::Active {
                    found.push(c.card_no.as_str().to_string());
                }
            }
        }
        drop(tx);
        let actor = Actor { name: "test".into(), role: Role::Admin, person_id: None, bank_code: None };
        let now = sscard_domain::clock::Clock::now_ms(&sscard_server::clock::SystemClock);
        let ctx = Ctx::new(actor, now, Policy::default());
        for c in &found {
            let cmd = transit::Topup { amount: Fen::new(2_000), source: TopupSource::Cash, key: None };
            transit::topup(store.as_ref(), &ctx, None, &Presentation::CardNo(c.clone()), &cmd).await.expect("top-up");
        }
        store.close().await;
        found
    });
    assert!(cards.len() >= 2, "the demo city has active cards");
    let topups = cards.len() as i64 * 2_000;
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let cards_arg = cards.join(",");
    // The taps happen after the cards were activated and topped up: from now, 1 ms apart.
    let start_at = sscard_domain::clock::Clock::now_ms(&sscard_server::clock::SystemClock).to_string();
    let stream = [
        "terminal",
        "simulate",
        "--server",
        &server,
        "--secret",
        &secret,
        "--offline",
        "--cards",
        &cards_arg,
        "--count",
        "4000",
        "--batch-size",
        "200",
        "--fare",
        "200",
        "--seed",
        "5",
        "--start-at",
        &start_at,
        "--spacing-ms",
        "1",
    ];

    // First run: SIGKILL the server once some batches have committed.
    let mut srv = serve(&db, port);
    let sim =
        command(&db, &stream).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("sim");
    let started = Instant::now();
    let before_kill = loop {
        let n = rt().block_on(transfer_totals(&db)).0 - demo_transfers - cards.len() as i64;
        if n > 0 || started.elapsed() > Duration::from_secs(60) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    srv.kill().expect("SIGKILL the server");
    srv.wait().expect("reap the server");
    let first = sim.wait_with_output().expect("simulator");
    assert!(before_kill > 0, "no batch committed before the kill");
    eprintln!("killed after {before_kill} fares; the simulator exited with {:?}", first.status.code());
    let check = run(&db, &["ledger", "check"]);
    assert!(ok(&check).contains("ledger clean"), "{}", text(&check));

    // Restart and send the same stream again: what was applied is a duplicate, nothing twice.
    let mut srv = serve(&db, port);
    let second = command(&db, &stream).output().expect("simulator");
    srv.kill().expect("stop the server");
    srv.wait().expect("reap");
    let out = ok(&second);
    let dup =
        count_of(&out, "duplicate already_applied") + count_of(&out, "duplicate already_refused:insufficient_balance");
    let applied = count_of(&out, "applied");
    let refused = count_of(&out, "refused insufficient_balance");
    // Nothing else: every line was applied, refused for want of money, or a duplicate of one.
    assert_eq!(dup + applied + refused, 4000, "{out}");
    if first.status.success() {
        assert_eq!(dup, 4000, "the first run finished before the kill: {out}");
    } else {
        assert!(dup > 0 && dup < 4000, "{out}\nfirst run: {}", text(&first));
    }
    let check = run(&db, &["ledger", "check"]);
    let report = ok(&check);
    assert!(report.contains("ledger clean") && report.contains("balances sum to 0 fen"), "{report}");

    // Exactly once: every (gate, seq) is recorded once, fares applied = money moved off the wallets.
    rt().block_on(async {
        let store = open(&db).await;
        let mut tx = store.write().await.expect("tx");
        let (n, total) = tx.transfer_totals().await.expect("totals");
        let fares = n - demo_transfers - cards.len() as i64;
        assert!(fares <= 4000 && total - demo_total - topups <= 200 * 4000);
        assert_eq!(
            tx.execute_unchecked("UPDATE transit_taps SET fare_fen = fare_fen WHERE seq IS NOT NULL")
                .await
                .expect("count"),
            4000
        );
        tx.execute_unchecked("UPDATE accounts SET balance = balance + 1 WHERE kind = 'clearing'")
            .await
            .expect("tamper");
        tx.commit().await.expect("commit");
        store.close().await;
    });
    let check = run(&db, &["ledger", "check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains("NOT clean"));
}
