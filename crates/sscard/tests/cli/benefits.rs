//! Benefits through the `sscard` binary: `payer add`, `benefits program add`, `user add --role
//! payer`, then `benefits submit` of a 60,000-line CSV killed with SIGKILL in the middle of
//! the payment and run again: the batch resumes where it stopped, every person is paid once,
//! the books stay clean, and a third run answers the same summary and pays nothing.

use crate::helpers::{Db, command, ok, open, rt, run, sscard, text};
use sscard_domain::benefits::BatchStatus;
use sscard_domain::card::CardStatus;
use sscard_domain::document::make_resident_id;
use sscard_domain::ids::RegionCode;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

const LINES: usize = 60_000;
const AMOUNT: i64 = 150_000;

/// (ssn, name) of the demo city's persons with an active card.
async fn payees(db: &Db) -> Vec<(String, String)> {
    let store = open(db).await;
    let mut tx = store.read().await.expect("tx");
    let mut found = Vec::new();
    for p in tx.list_persons(&sscard_store::Page::first(500)).await.expect("persons") {
        let cards = tx.cards_of_person(&p.id).await.expect("cards");
        if cards.iter().any(|c| c.status == CardStatus::Active && c.pan.is_some()) {
            found.push((p.ssn.to_string(), p.name.as_str().to_string()));
        }
    }
    drop(tx);
    store.close().await;
    found
}

/// (status, done_through) of the batch, if it exists yet.
async fn progress_in(store: &dyn sscard_store::Store) -> Option<(BatchStatus, i64)> {
    let mut tx = store.read().await.expect("tx");
    let b = tx.get_batch("PF-T", "CLI-2026-05", false).await.expect("batch");
    drop(tx);
    b.map(|b| (b.status, b.done_through))
}

async fn progress(db: &Db) -> Option<(BatchStatus, i64)> {
    let store = open(db).await;
    let p = progress_in(store.as_ref()).await;
    store.close().await;
    p
}

async fn transfers(db: &Db) -> i64 {
    let store = open(db).await;
    let mut tx = store.read().await.expect("tx");
    let (n, _) = tx.transfer_totals().await.expect("totals");
    drop(tx);
    store.close().await;
    n
}

/// The CSV: the payees spread through lines of strangers (valid numbers nobody holds).
fn batch_csv(payees: &[(String, String)]) -> String {
    let taken: HashSet<&str> = payees.iter().map(|(s, _)| s.as_str()).collect();
    let region = RegionCode::parse("350203").expect("region");
    let every = LINES / payees.len();
    let mut csv = String::from("line_id,ssn,name,amount_fen\r\n");
    let mut next = 0usize;
    for i in 0..LINES {
        if i % every == every / 2 && next < payees.len() {
            let (ssn, name) = &payees[next];
            next += 1;
            let _ = write!(csv, "P{i},{ssn},\"{name}\",{AMOUNT}\r\n");
            continue;
        }
        let birth = time::macros::date!(1940 - 01 - 01) + time::Duration::days((i / 900) as i64);
        let ssn = make_resident_id(region, birth, (i % 900) as u16 + 10);
        assert!(!taken.contains(ssn.as_str()));
        let _ = write!(csv, "S{i},{ssn},无名,1\r\n");
    }
    assert_eq!(next, payees.len());
    csv
}

#[test]
fn a_batch_killed_in_the_middle_resumes_and_pays_each_line_once() {
    let db = Db::new();
    ok(&run(&db, &["demo"]));
    ok(&run(&db, &["payer", "add", "--code", "PF-T", "--name", "测试社保基金", "--region", "350200"]));
    let out =
        ok(&run(&db, &["benefits", "program", "add", "--code", "PENS-T", "--name", "养老金", "--kind", "pension"]));
    assert!(out.contains("program PENS-T"), "{out}");
    let login = ["user", "add", "--username", "pf.t", "--role", "payer", "--payer-code", "PF-T", "--password-stdin"];
    ok(&sscard(&db, &login, Some("a long password\n")));
    let no_payer = ["user", "add", "--username", "pf.u", "--role", "payer", "--password-stdin"];
    let o = sscard(&db, &no_payer, Some("a long password\n"));
    assert!(!o.status.success() && text(&o).contains("--payer-code"), "{}", text(&o));

    let payees = rt().block_on(payees(&db));
    assert!(payees.len() >= 3, "the demo city has active cards: {payees:?}");
    let dir = tempdir();
    let file = dir.join("batch.csv");
    std::fs::write(&file, batch_csv(&payees)).expect("write csv");
    let strangers = (LINES - payees.len()) as i64;
    let total = payees.len() as i64 * AMOUNT + strangers;
    let (lines_arg, total_arg) = (LINES.to_string(), total.to_string());
    let file_arg = file.to_string_lossy().to_string();
    let submit = [
        "benefits",
        "submit",
        &file_arg,
        "--payer",
        "PF-T",
        "--program",
        "PENS-T",
        "--period",
        "2026-05",
        "--batch-id",
        "CLI-2026-05",
        "--declared-lines",
        &lines_arg,
        "--declared-total-fen",
        &total_arg,
    ];
    let before = rt().block_on(transfers(&db));

    // First run: SIGKILL once some chunks are paid, before the last.
    let mut child = command(&db, &submit)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let runtime = rt();
    let watcher = runtime.block_on(open(&db));
    let killed_at = loop {
        if let Some((BatchStatus::Processing, done)) = runtime.block_on(progress_in(watcher.as_ref()))
            && done > 0
        {
            child.kill().expect("SIGKILL");
            let _ = child.wait();
            break done;
        }
        if child.try_wait().expect("wait").is_some() {
            let o = child.wait_with_output().expect("output");
            panic!("the batch ended before it could be killed: {}", text(&o));
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the batch never started paying");
        std::thread::sleep(Duration::from_millis(2));
    };
    runtime.block_on(watcher.close());
    let (status, done) = rt().block_on(progress(&db)).expect("the batch survives the kill");
    assert_eq!(status, BatchStatus::Processing);
    assert!(done >= killed_at && done < LINES as i64, "killed at {done} of {LINES}");
    ok(&run(&db, &["ledger", "check"]));

    // Second run: resumes after the last committed chunk; each payee is paid exactly once.
    let out = ok(&run(&db, &submit));
    assert!(out.contains("done"), "{out}");
    let paid_line = out.lines().find(|l| l.trim_start().starts_with("paid ")).expect("paid line");
    assert!(paid_line.contains(&format!(" {} lines", payees.len())), "{out}");
    let unknown = out.lines().find(|l| l.trim_start().starts_with("unknown_person")).expect("unknown line");
    assert!(unknown.contains(&format!(" {strangers} lines")), "{out}");
    assert_eq!(rt().block_on(progress(&db)), Some((BatchStatus::Done, LINES as i64)));
    assert_eq!(rt().block_on(transfers(&db)) - before, payees.len() as i64);
    ok(&run(&db, &["ledger", "check"]));

    // Third run: the same summary, nothing paid; other content under the id is refused.
    assert_eq!(ok(&run(&db, &submit)), out);
    assert_eq!(rt().block_on(transfers(&db)) - before, payees.len() as i64);
    let mut changed = submit.map(str::to_string);
    changed[14] = (total + 1).to_string();
    let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
    let o = run(&db, &changed);
    assert!(!o.status.success(), "{}", text(&o));
    let status = ok(&run(&db, &["benefits", "status", "CLI-2026-05", "--payer", "PF-T"]));
    assert!(status.contains("done") && status.contains(&format!(" {} lines", payees.len())), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sscard-benefits-{}-{}", std::process::id(), uuid_like()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
