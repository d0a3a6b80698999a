//! The `sscard` binary end to end against a temporary SQLite file: administration, the
//! import with a bad row (exit 2), jobs as of a date, the audit chain (intact: exit 0;
//! edited behind sscard's back: exit 1 naming the record) and the demo seeding once.

use crate::helpers::{Db, err, exit, open, out, rt, sscard};
use sscard_app::{Ctx, applications, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, AppStep, ApplicationInput, Channel};
use sscard_domain::clock::FixedClock;
use sscard_domain::document::make_resident_id;
use sscard_domain::ids::{BankCode, BranchCode, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_domain::policy::Policy;
use sscard_store::Store;
use time::macros::date;

/// A card made at the branch on 2026-03-02 and never collected (the dormant sweep's business).
async fn uncollected_card(store: &dyn Store) -> String {
    let clock = FixedClock::at_date(date!(2026 - 03 - 02));
    let actor = Actor { name: "test".into(), role: Role::Admin, person_id: None, bank_code: None };
    let mut ctx = Ctx::new(actor, sscard_domain::clock::Clock::now_ms(&clock), Policy::default());
    ctx.hash_iterations = 1000;
    let region = RegionCode::parse("350203").expect("region");
    let input = RegistrationInput {
        doc_type: sscard_domain::document::DocType::ResidentId,
        doc_number: make_resident_id(region, date!(1983 - 04 - 05), 7),
        name: "周七".into(),
        sex: None,
        birth_date: None,
        region,
        guardian_id: None,
        relationship_proof: None,
    };
    let person = persons::register(store, &ctx, input).await.expect("register");
    let input = ApplicationInput {
        kind: AppKind::First,
        channel: Channel::Branch,
        bank_code: BankCode::parse("ICBC").expect("bank"),
        branch_code: Some(BranchCode::parse("ICBC-SM").expect("branch")),
        mail_address: None,
        reason: None,
    };
    let view = applications::apply(store, &ctx, &person.id, input).await.expect("apply");
    let mut card = None;
    for step in [AppStep::Approve, AppStep::Produce, AppStep::Ready] {
        let v = applications::step(store, &ctx, &view.application.id, step).await.expect("step");
        card = v.application.card_no;
    }
    card.expect("card made")
}

#[test]
fn administration_import_jobs_and_the_audit_chain() {
    let db = Db::sqlite();
    let rt = rt();

    // Banks and branches.
    let o = sscard(&db, &["bank", "add", "--code", "ICBC", "--name", "中国工商银行", "--bin", "622202"], None);
    exit(&o, 0);
    assert!(out(&o).contains("bank ICBC (中国工商银行) added with BIN 622202"), "{}", out(&o));
    let o = sscard(&db, &["bank", "add", "--code", "ICBC", "--name", "again", "--bin", "622202"], None);
    exit(&o, 1);
    assert!(err(&o).contains("already exists"), "{}", err(&o));
    exit(&sscard(&db, &["bank", "add", "--code", "X", "--name", "x", "--bin", "12"], None), 1);
    let o = sscard(
        &db,
        &["branch", "add", "--bank-code", "ICBC", "--code", "ICBC-SM", "--region", "350203", "--printer"],
        None,
    );
    exit(&o, 0);
    assert!(out(&o).contains("branch ICBC/ICBC-SM added in 350203 with a card printer"), "{}", out(&o));
    let o = sscard(&db, &["branch", "add", "--bank-code", "ICBC", "--code", "ICBC-HL", "--region", "350206"], None);
    exit(&o, 0);
    assert!(!out(&o).contains("printer"), "{}", out(&o));
    exit(&sscard(&db, &["branch", "add", "--bank-code", "NOPE", "--code", "N-1", "--region", "350203"], None), 1);

    // Users: the password comes on standard input, never on the command line.
    let o = sscard(
        &db,
        &["user", "add", "--username", "clerk1", "--role", "clerk", "--password-stdin"],
        Some("s3cret-pass-word\n"),
    );
    exit(&o, 0);
    assert!(out(&o).contains("user clerk1 (clerk) created"), "{}", out(&o));
    let o = sscard(&db, &["user", "add", "--username", "clerk2", "--role", "clerk"], Some("s3cret-pass-word\n"));
    exit(&o, 2); // clap: --password-stdin is required
    exit(
        &sscard(&db, &["user", "add", "--username", "clerk3", "--role", "clerk", "--password-stdin"], Some("short\n")),
        1,
    );
    exit(
        &sscard(
            &db,
            &["user", "add", "--username", "t1", "--role", "teller", "--password-stdin"],
            Some("long-enough-pw\n"),
        ),
        1,
    );
    exit(
        &sscard(
            &db,
            &["user", "add", "--username", "k1", "--role", "king", "--password-stdin"],
            Some("long-enough-pw\n"),
        ),
        1,
    );
    // A teller at their own branch; a branch of no such kind, or for a clerk, is refused.
    let teller = |name: &str, branch: &str, role: &str| {
        let args = ["user", "add", "--username", name, "--role", role, "--bank-code", "ICBC", "--branch", branch];
        sscard(&db, &[&args[..], &["--password-stdin"]].concat(), Some("long-enough-pw\n"))
    };
    exit(&teller("t.hl", "icbc-hl", "teller"), 0);
    exit(&teller("t.none", "ICBC-XX", "teller"), 1);
    let o = teller("c.hl", "ICBC-HL", "clerk");
    exit(&o, 1);
    assert!(err(&o).contains("branch"), "{}", err(&o));
    rt.block_on(async {
        let store = open(&db).await;
        let now = sscard_domain::clock::Clock::now_ms(&FixedClock::at_date(date!(2026 - 03 - 02)));
        let ok = sscard_app::auth::login(store.as_ref(), "clerk1", "s3cret-pass-word", now).await.expect("login");
        assert_eq!(
            ok.map(|l| l.actor.role),
            Some(Role::Clerk),
            "the password read from stdin (without its newline) works"
        );
        let nl = sscard_app::auth::login(store.as_ref(), "clerk1", "s3cret-pass-word\n", now).await.expect("login");
        assert!(nl.is_none());
        let mut tx = store.read().await.expect("read");
        assert!(tx.get_user("clerk3").await.expect("user").is_none());
        assert!(tx.get_user("t1").await.expect("user").is_none());
        let at_branch = tx.get_user("t.hl").await.expect("user").and_then(|u| u.branch_code);
        assert_eq!(at_branch.as_deref(), Some("ICBC-HL"));
        assert!(tx.get_user("t.none").await.expect("user").is_none());
        assert!(tx.get_user("c.hl").await.expect("user").is_none());
        tx.commit().await.expect("commit");
        store.close().await;
    });

    // Import: one good row, one with a mistyped ID number.
    let region = RegionCode::parse("350203").expect("region");
    let good = make_resident_id(region, date!(1960 - 10 - 01), 11);
    let typo = format!("{}{}", &good[..17], if good.ends_with('1') { '2' } else { '1' });
    let csv = format!(
        "doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on\n\
         resident_id,{good},李老,,,350203,Z10000001,ICBC,2020-01-01,2099-01-01\n\
         resident_id,{typo},王错,,,350203,Z10000002,ICBC,2020-01-01,2099-01-01\n"
    );
    let file = std::env::temp_dir().join(format!("sscard-import-{}.csv", std::process::id()));
    std::fs::write(&file, csv).expect("write csv");
    let file_s = file.to_str().expect("path").to_string();
    let o = sscard(&db, &["import", "cards", &file_s], None);
    exit(&o, 2);
    assert!(out(&o).contains("imported 1 cards, skipped 1"), "{}", out(&o));
    assert!(out(&o).contains("line 3:"), "the bad line is named: {}", out(&o));
    assert!(!out(&o).contains("line 2:"), "{}", out(&o));
    // Again: the good row is already there.
    let o = sscard(&db, &["import", "cards", &file_s], None);
    exit(&o, 2);
    assert!(out(&o).contains("imported 0 cards, skipped 2"), "{}", out(&o));
    assert!(out(&o).contains("already imported"), "{}", out(&o));
    // As a spreadsheet writes it: a byte-order mark, CRLF line ends, quoted names, a blank line.
    // A comma inside quotes stays in the name (which the name rule then refuses, naming the
    // name); the row short of a column is named by its line in the file.
    let other = make_resident_id(region, date!(1955 - 05 - 05), 12);
    let third = make_resident_id(region, date!(1956 - 06 - 06), 13);
    let excel = format!(
        "\u{feff}doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on\r\n\
         resident_id,{other},\"Wang Lao\",,,350203,Z10000003,ICBC,2020-01-01,2099-01-01\r\n\
         \r\n\
         resident_id,{third},\"Zhao, Que\",,,350203,Z10000004,ICBC,2020-01-01,2099-01-01\r\n\
         resident_id,{third},Zhao Que,,,350203,Z10000005,ICBC,2020-01-01\r\n"
    );
    std::fs::write(&file, excel).expect("write csv");
    let o = sscard(&db, &["import", "cards", &file_s], None);
    exit(&o, 2);
    assert!(out(&o).contains("imported 1 cards, skipped 2"), "{}", out(&o));
    assert!(out(&o).contains("line 4: name: character 5 (U+002C) is not allowed"), "{}", out(&o));
    assert!(out(&o).contains("line 5: expected 10 columns"), "the short line is named: {}", out(&o));
    // Over the row limit: refused whole, before any row is imported or reported.
    let rows = sscard_app::import::MAX_ROWS + 1;
    std::fs::write(&file, format!("{}\n{}", sscard_app::import::CSV_HEADER, "x\n".repeat(rows))).expect("write");
    let o = sscard(&db, &["import", "cards", &file_s], None);
    exit(&o, 1);
    assert!(err(&o).contains("more than 1000000 rows"), "{}", err(&o));
    assert!(!out(&o).contains("line "), "{}", out(&o));
    std::fs::write(&file, "no,header\n").expect("write csv");
    exit(&sscard(&db, &["import", "cards", &file_s], None), 1);
    let _ = std::fs::remove_file(&file);
    let card = rt.block_on(async {
        let store = open(&db).await;
        let mut tx = store.read().await.expect("read");
        let imported = tx.get_card("Z10000001", false).await.expect("card").expect("the good row was imported");
        assert_eq!(imported.generation, 2);
        assert_eq!(imported.status.as_str(), "active");
        assert!(tx.get_card("Z10000002", false).await.expect("card").is_none());
        let person = tx.find_person_by_ssn(&good).await.expect("person").expect("person registered");
        assert_eq!(person.name.as_str(), "李老");
        assert!(tx.find_person_by_ssn(&typo).await.is_ok_and(|p| p.is_none()));
        let quoted = tx.find_person_by_ssn(&other).await.expect("person").expect("the quoted row was imported");
        assert_eq!(quoted.name.as_str(), "Wang Lao");
        assert!(tx.get_card("Z10000003", false).await.expect("card").is_some());
        assert!(tx.find_person_by_ssn(&third).await.is_ok_and(|p| p.is_none()));
        tx.commit().await.expect("commit");
        let card = uncollected_card(store.as_ref()).await;
        store.close().await;
        card
    });

    // Jobs, all of them, as of a date: the card made in 2026 and never collected turns dormant.
    let o = sscard(&db, &["jobs", "run", "all", "--as-of", "2030-01-01"], None);
    exit(&o, 0);
    let reports: Vec<serde_json::Value> =
        out(&o).lines().map(|l| serde_json::from_str(l).expect("one JSON report per line")).collect();
    let want = |job: &str, examined: u64, changed: u64| serde_json::json!({ "job": job, "as_of": "2030-01-01", "examined": examined, "changed": changed, "failures": [] });
    assert_eq!(
        reports,
        vec![want("auto_lift", 0, 0), want("dormant_sweep", 1, 1), want("temporary_expiry", 0, 0)],
        "{}",
        out(&o)
    );
    let o = sscard(&db, &["jobs", "run", "dormant_sweep", "--as-of", "2030-01-01"], None);
    exit(&o, 0);
    assert!(out(&o).contains("\"changed\":0"), "{}", out(&o));
    exit(&sscard(&db, &["jobs", "run", "everything"], None), 1);
    exit(&sscard(&db, &["jobs", "run", "all", "--as-of", "2030-13-01"], None), 1);
    rt.block_on(async {
        let store = open(&db).await;
        let mut tx = store.read().await.expect("read");
        let c = tx.get_card(&card, false).await.expect("card").expect("card");
        assert_eq!(c.status.as_str(), "dormant");
        let imported = tx.get_card("Z10000001", false).await.expect("card").expect("card");
        assert_eq!(imported.status.as_str(), "active", "jobs leave an active card alone");
        tx.commit().await.expect("commit");
        store.close().await;
    });

    // The audit chain holds...
    let o = sscard(&db, &["audit", "verify"], None);
    exit(&o, 0);
    assert!(out(&o).starts_with("audit chain intact: "), "{}", out(&o));
    // ...until a record is edited behind sscard's back.
    rt.block_on(async {
        let store = open(&db).await;
        let mut tx = store.write().await.expect("write");
        let n = tx.execute_unchecked("UPDATE audit_log SET detail = '{}' WHERE seq = 2").await.expect("tamper");
        assert_eq!(n, 1);
        tx.commit().await.expect("commit");
        store.close().await;
    });
    let o = sscard(&db, &["audit", "verify"], None);
    exit(&o, 1);
    assert!(out(&o).contains("audit chain BROKEN at chain position 2 (record seq 2)"), "{}", out(&o));
    assert!(out(&o).contains("changed after it was sealed"), "{}", out(&o));
}

#[test]
fn demo_seeds_once() {
    let db = Db::sqlite();
    let o = sscard(&db, &["demo"], None);
    exit(&o, 0);
    assert!(err(&o).contains("demo city seeded"), "{}", err(&o));
    for login in ["admin", "clerk", "teller.icbc", "teller.cmb", "holder1"] {
        assert!(err(&o).contains(login), "demo login {login} not printed: {}", err(&o));
    }
    let rt = rt();
    let before = rt.block_on(async {
        let store = open(&db).await;
        let mut tx = store.read().await.expect("read");
        let ov = tx.overview().await.expect("overview");
        let banks = tx.list_banks().await.expect("banks").len();
        tx.commit().await.expect("commit");
        store.close().await;
        (ov, banks)
    });
    assert_eq!(before.1, 16);
    assert_eq!(before.0.persons, 1000, "the demo city has 1,000 persons");
    let statuses: Vec<&str> = before.0.cards_by_status.iter().map(|c| c.key.as_str()).collect();
    for s in ["produced", "issued", "active", "suspended", "lost", "stopped", "dormant", "cancelled", "replaced"] {
        assert!(statuses.contains(&s), "no {s} card in the demo city: {statuses:?}");
    }

    let o = sscard(&db, &["demo"], None);
    exit(&o, 0);
    assert!(err(&o).contains("already present; nothing seeded"), "{}", err(&o));
    let after = rt.block_on(async {
        let store = open(&db).await;
        let mut tx = store.read().await.expect("read");
        let ov = tx.overview().await.expect("overview");
        let banks = tx.list_banks().await.expect("banks").len();
        tx.commit().await.expect("commit");
        store.close().await;
        (ov, banks)
    });
    assert_eq!(after, before, "the second demo changed the database");
    exit(&sscard(&db, &["audit", "verify"], None), 0);
}
