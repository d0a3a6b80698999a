//! `sscard keys rotate-data` end to end: persons registered (and, as on a hub, a deployment
//! whose secret is kept sealed), the data keys rotated by the binary in small chunks,
//! everything reads and is found as before; another master key is refused with a clear message.

use crate::helpers::{Db, data_keys, err, exit, ok, open, rt, run};
use sscard_app::{Ctx, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::document::{DocType, make_resident_id};
use sscard_domain::ids::RegionCode;
use sscard_domain::person::{Person, RegistrationInput};
use sscard_domain::policy::Policy;
use sscard_store::Store;
use time::macros::date;

async fn register(store: &dyn Store, n: u16) -> Person {
    let actor = Actor { name: "test".into(), role: Role::Admin, person_id: None, bank_code: None };
    let ctx = Ctx::new(actor, 1_780_000_000_000, Policy::default());
    let region = RegionCode::parse("350203").expect("region");
    let input = RegistrationInput {
        doc_type: DocType::ResidentId,
        doc_number: make_resident_id(region, date!(1979 - 02 - 01), n),
        name: ["林", "陈", "黄", "吴", "郑"][usize::from(n) % 5].to_string() + "轮换",
        sex: None,
        birth_date: None,
        region,
        guardian_id: None,
        relationship_proof: None,
    };
    persons::register(store, &ctx, input).await.expect("register")
}

#[test]
fn rotate_data_reseals_every_row_and_reads_stay_the_same() {
    let db = Db::new();
    let rt = rt();
    let people: Vec<Person> = rt.block_on(async {
        let store = open(&db).await;
        let mut out = Vec::new();
        for n in 1..=5 {
            out.push(register(store.as_ref(), n).await);
        }
        store.close().await;
        out
    });
    let add =
        ["hub", "add-deployment", "--code", "XM", "--name", "XM", "--regions", "3502", "--url", "https://xm.example"];
    let secret = ok(&run(&db, &add)).trim().to_string();

    let said = ok(&run(&db, &["keys", "rotate-data", "--chunk", "2"]));
    assert!(said.contains("data key version 2 added (was 1)"), "{said}");
    let line = |words: &[&str]| said.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == words);
    assert!(line(&["persons", "5", "rows", "re-sealed"]), "{said}");
    assert!(line(&["hub_deployment_secrets", "1", "rows", "re-sealed"]), "{said}");

    rt.block_on(async {
        let store = sscard_store_sql::open_sql(&db.url(), data_keys(&db)).await.expect("reopen");
        assert_eq!(store.data_key_version(), 2);
        let mut tx = store.read().await.expect("read");
        for p in &people {
            assert_eq!(tx.get_person(&p.id, false).await.expect("read").as_ref(), Some(p));
            assert_eq!(tx.find_person_by_ssn(p.ssn.as_str()).await.expect("by ssn").map(|f| f.id), Some(p.id.clone()));
        }
        // The hub's sealed copy of the secret it presents to XM opens under version 2.
        assert_eq!(tx.deployment_secret("XM").await.expect("secret"), Some(secret.clone()));
        tx.commit().await.expect("commit");
        store.close().await;
    });

    // Run again: nothing is on an older version, so a further version is added.
    let said = ok(&run(&db, &["keys", "rotate-data"]));
    assert!(said.contains("data key version 3 added (was 2)"), "{said}");

    // Another master key: refused before anything is written, saying why.
    let wrong = crate::helpers::command(&db, &["keys", "rotate-data"])
        .env("SSCARD_MASTER_KEY", "ff".repeat(32))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sscard");
    exit(&wrong, 1);
    assert!(err(&wrong).contains("master key"), "{}", err(&wrong));
}
