//! Personal data at rest on both backends, beyond the shared case: a database from before
//! migration 0009 converted at open (also when a conversion was cut off), benefit lines and
//! payments from before 0014 sealed at open, data key rotation, and a wrong master key.

use sqlx::{AnyPool, AssertSqlSafe, Row};
use sscard_conformance::fixtures::*;
use sscard_store::Store;
use sscard_store_sql::DataKeys;

/// A database of each backend (PostgreSQL only when it answers; with CI set it must).
enum Db {
    Sqlite(sscard_store_sql::sqlite::TempDatabase),
    Postgres(sscard_store_sql::postgres::TempDatabase),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(d) => format!("{}?mode=rwc", d.url()),
            Db::Postgres(d) => d.url(),
        }
    }
    fn migrations(&self) -> &'static [sscard_store_sql::migrate::Migration] {
        match self {
            Db::Sqlite(_) => sscard_store_sql::sqlite::MIGRATIONS,
            Db::Postgres(_) => sscard_store_sql::postgres::MIGRATIONS,
        }
    }
    /// The SQLite file and its WAL, as a thief would copy them.
    fn file_bytes(&self) -> Option<Vec<u8>> {
        let Db::Sqlite(d) = self else { return None };
        let mut bytes = std::fs::read(&d.path).expect("the database file");
        bytes.extend(std::fs::read(format!("{}-wal", d.path.display())).unwrap_or_default());
        Some(bytes)
    }
}

async fn databases() -> Vec<Db> {
    let mut out = vec![Db::Sqlite(sscard_store_sql::sqlite::TempDatabase::new())];
    match sscard_store_sql::postgres::TempDatabase::create().await {
        Ok(db) => out.push(Db::Postgres(db)),
        Err(e) if std::env::var_os("CI").is_none() => eprintln!("SKIPPED on PostgreSQL (not answering): {e}"),
        Err(e) => panic!("PostgreSQL does not answer and CI is set: {e}"),
    }
    out
}

async fn raw_pool(db: &Db) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(&db.url()).await.expect("a raw connection")
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(pool: &AnyPool, sql: &str) -> i64 {
    let row =
        sqlx::query(AssertSqlSafe(sql.to_string())).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.try_get::<i64, _>(0).expect("a count")
}

const ADDRESS: &str = "福建省厦门市湖里区测试路17号";
const PAN: &str = "6222021234567890128";

/// Clear rows as a version 8 sscard wrote them: person `n`, an application mailed to
/// [`ADDRESS`] (for n = 1), a card with [`PAN`] (for n = 1), and a repeat-safe answer naming them.
async fn insert_clear(pool: &AnyPool, n: u32) {
    let (ssn, name) = (resident_number(n), test_name(n));
    exec(pool, &format!(
        "INSERT INTO persons (id, ssn, doc_type, doc_number, name, sex, birth_date, region, pension_recorded, created_at_ms) \
         VALUES ('p{n}', '{ssn}', 'resident_id', '{ssn}', '{name}', 'male', '1985-01-02', '350200', 0, 1)"
    )).await;
    exec(
        pool,
        &format!(
            "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at_ms) \
         VALUES ('POST /persons', 'k{n}', 'h{n}', 201, '{{\"ssn\":\"{ssn}\",\"name\":\"{name}\"}}', 1)"
        ),
    )
    .await;
    if n != 1 {
        return;
    }
    exec(pool, "INSERT INTO banks (code, name, bin) VALUES ('ICBC', 'ICBC', '622202')").await;
    exec(pool, &format!(
        "INSERT INTO applications (id, person_id, region, kind, channel, status, fee_fen, bank_code, mail_address, \
         submitted_at_ms, updated_at_ms) VALUES ('a1', 'p1', '350200', 'first', 'online', 'submitted', 0, 'ICBC', '{ADDRESS}', 1, 1)"
    )).await;
    exec(
        pool,
        &format!(
            "INSERT INTO cards (card_no, person_id, region, status, generation, temporary, bank_code, pan, expires_on, \
         status_changed_at_ms, produced_at_ms, destroyed) \
         VALUES ('A00000001', 'p1', '350200', 'produced', 3, 0, 'ICBC', '{PAN}', '2036-01-01', 1, 1, 0)"
        ),
    )
    .await;
}

/// Every value of [`insert_clear`] reads back through the ports, and lookups find person `n`.
async fn reads_back(store: &dyn Store, n: u32) {
    let (ssn, name) = (resident_number(n), test_name(n));
    let mut tx = store.read().await.expect("read");
    let p = tx.get_person(&format!("p{n}"), false).await.expect("read").expect("the person");
    assert_eq!((p.ssn.as_str(), p.doc_number.as_str(), p.name.as_str()), (ssn.as_str(), ssn.as_str(), name.as_str()));
    assert_eq!(tx.find_person_by_ssn(&ssn).await.expect("by ssn").map(|p| p.id), Some(format!("p{n}")));
    assert_eq!(tx.find_persons_by_doc_number(&ssn).await.expect("by doc").len(), 1);
    let idem = tx.get_idempotency("POST /persons", &format!("k{n}")).await.expect("idem").expect("the answer");
    assert_eq!(idem.request_hash, format!("h{n}"));
    assert!(format!("{:?}", idem.outcome).contains(&ssn), "{:?}", idem.outcome);
    if n == 1 {
        let app = tx.get_application("a1", false).await.expect("read").expect("the application");
        assert_eq!(app.mail_address.as_deref(), Some(ADDRESS));
        let card = tx.get_card("A00000001", false).await.expect("read").expect("the card");
        assert_eq!(card.pan.map(|p| p.as_str().to_string()).as_deref(), Some(PAN));
    }
    tx.commit().await.expect("commit");
}

fn assert_not_in(bytes: &[u8], values: &[String]) {
    for v in values {
        let needle = v.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{v} is in the database file in clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_0009_is_converted_at_open_even_after_a_cut_off_conversion() {
    for db in databases().await {
        let pool = raw_pool(&db).await;
        sscard_store_sql::migrate::run(&pool, &db.migrations()[..8]).await.expect("migrations 1..8");
        for n in 1..=3 {
            insert_clear(&pool, n).await;
        }
        pool.close().await;
        let keys = DataKeys::ephemeral();
        let store = sscard_store_sql::open(&db.url(), keys.clone()).await.expect("open converts");
        for n in 1..=3 {
            reads_back(store.as_ref(), n).await;
        }
        store.close().await;
        let mut clear: Vec<String> = (1..=3).flat_map(|n| [resident_number(n), test_name(n)]).collect();
        clear.extend([ADDRESS.to_string(), PAN.to_string()]);
        if let Some(bytes) = db.file_bytes() {
            assert_not_in(&bytes, &clear);
        }

        // A conversion killed after some chunks leaves sealed rows beside clear ones (key_version
        // NULL): the next start finishes it.
        let pool = raw_pool(&db).await;
        for n in 4..=5 {
            insert_clear(&pool, n).await;
        }
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM persons WHERE key_version IS NULL").await, 2);
        pool.close().await;
        let store = sscard_store_sql::open(&db.url(), keys.clone()).await.expect("open continues");
        for n in 1..=5 {
            reads_back(store.as_ref(), n).await;
        }
        store.close().await;
        let pool = raw_pool(&db).await;
        assert_eq!(
            count(&pool, "SELECT COUNT(*) FROM persons WHERE key_version IS NULL OR ssn_index IS NULL").await,
            0
        );
        // The clear body's key with its quotes: a sealed body is base64, which has no quote,
        // while bare letters (SQLite's LIKE ignores case) turn up in one body of fifty or so.
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM idempotency WHERE body LIKE '%\"ssn\"%'").await, 0);
        pool.close().await;
        if let Some(bytes) = db.file_bytes() {
            assert_not_in(&bytes, &[resident_number(4), test_name(5)]);
        }

        // Another master key is refused at open with a clear error, not met as garbage.
        let err = sscard_store_sql::open(&db.url(), DataKeys::ephemeral()).await.err().expect("a wrong key is refused");
        assert!(err.to_string().contains("master key"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_reseals_every_row_and_changes_no_value() {
    for db in databases().await {
        let keys = DataKeys::ephemeral();
        let store = sscard_store_sql::open(&db.url(), keys.clone()).await.expect("open");
        seed(store.as_ref()).await;
        let people: Vec<_> = five_people(store.as_ref()).await;
        let card = active_card(store.as_ref(), &people[0]).await;
        let mailed = apply(store.as_ref(), &ctx(clerk()), &people[1].id, online_first()).await;
        let paid_to = sscard_conformance::paid_benefit_batch(store.as_ref(), &people[2]).await;
        let secret = hub_secret(store.as_ref(), "XM").await;

        let cli = sscard_store_sql::open_sql(&db.url(), keys.clone()).await.expect("a second handle");
        let mut seen = Vec::new();
        let rotation = cli.rotate_data(2, &mut |table, n| seen.push((table, n))).await.expect("rotate");
        assert_eq!((rotation.version, rotation.added), (2, true));
        let persons = rotation.counts.iter().find(|(t, _)| *t == "persons").map(|(_, n)| *n);
        assert_eq!(persons, Some(people.len() as u64));
        assert!(seen.iter().any(|(t, n)| *t == "persons" && *n == 2), "progress per chunk: {seen:?}");
        let secrets = rotation.counts.iter().find(|(t, _)| *t == "hub_deployment_secrets").map(|(_, n)| *n);
        assert_eq!(secrets, Some(1), "the hub's sealed deployment secret is re-sealed too");

        let pool = raw_pool(&db).await;
        for table in ["persons", "applications", "cards", "idempotency", "benefit_lines", "benefit_payments"] {
            let stale = count(&pool, &format!("SELECT COUNT(*) FROM {table} WHERE key_version <> 2")).await;
            assert_eq!(stale, 0, "{table}");
        }
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM persons WHERE ssn NOT LIKE 'v2.%'").await, 0);
        let sql = "SELECT COUNT(*) FROM benefit_lines WHERE name NOT LIKE 'v2.%' OR account_no NOT LIKE 'v2.%'";
        assert_eq!(count(&pool, sql).await, 0, "the paid line's name and account are sealed under v2");
        let sql = "SELECT COUNT(*) FROM hub_deployment_secrets WHERE sealed_secret LIKE 'v2.%'";
        assert_eq!(count(&pool, sql).await, 1, "the deployment secret is sealed under v2");
        // It opens under the new version, through the handle that sealed it under version 1.
        let mut tx = store.read().await.expect("read");
        assert_eq!(tx.deployment_secret("XM").await.expect("secret").as_deref(), Some(secret.as_str()));
        tx.commit().await.expect("commit");
        let mut tx = store.read().await.expect("read");
        let mine = tx.benefits_of_person(&people[2].id, 10).await.expect("benefits");
        assert_eq!(mine.iter().map(|b| b.payment.account_no.as_str()).collect::<Vec<_>>(), [paid_to.as_str()]);
        tx.commit().await.expect("commit");
        // Reads and lookups through the first handle (which sealed with version 1) are unchanged.
        let c = ctx(clerk());
        for p in &people {
            let found = try_find_by_ssn(store.as_ref(), &c, p.ssn.as_str()).await.expect("found").person;
            assert_eq!(&found, p);
        }
        assert_eq!(get_card(store.as_ref(), card.card_no.as_str()).await.pan, card.pan);
        let app = application(store.as_ref(), &mailed.application.id).await;
        assert_eq!(app.application.mail_address.as_deref(), Some(MAIL_ADDRESS));
        // That handle took up version 2 for what it writes now.
        let late = register(store.as_ref(), 9).await;
        let sql = format!("SELECT COUNT(*) FROM persons WHERE id = '{}' AND key_version = 2", late.id);
        assert_eq!(count(&pool, &sql).await, 1);

        // Nothing left on an older version: the next run adds version 3.
        let again = cli.rotate_data(1000, &mut |_, _| {}).await.expect("rotate again");
        assert_eq!((again.version, again.added), (3, true));
        pool.close().await;
        cli.close().await;
        store.close().await;
    }
}

/// Registers deployment `code` at this database as a hub does and keeps its secret sealed.
async fn hub_secret(store: &dyn Store, code: &str) -> String {
    let info = sscard_domain::nation::hub::parse_deployment(code, code, "3502", "https://xm.example").expect("info");
    let c = ctx(admin());
    let added = sscard_app::hub::add_deployment(store, &c, info).await.expect("add deployment");
    sscard_app::national::remember_secret(store, &added.deployment.info.code, &added.secret, c.now_ms)
        .await
        .expect("remember");
    added.secret
}

/// Five registered persons.
async fn five_people(store: &dyn Store) -> Vec<sscard_domain::person::Person> {
    let mut out = Vec::new();
    for n in 1..=5 {
        out.push(register(store, n).await);
    }
    out
}

/// Clear benefit rows as a version 13 sscard wrote them: batch 1 of payer TAX-XM with line
/// `seq` of person p1 paid to [`PAN`] (seq 1 also gets its payment) and line `seq + 1` of an
/// unknown person named `ghost`.
async fn insert_clear_benefits(pool: &AnyPool, seq: i64, ghost: &str) {
    let (ssn, name) = (resident_number(1), test_name(1));
    if seq == 1 {
        exec(pool, "INSERT INTO payers (code, name, region, account_id, created_at_ms) VALUES ('TAX-XM', 'Tax', '350200', 'payer:TAX-XM', 1)").await;
        exec(pool, "INSERT INTO benefit_programs (code, name, kind, needs_certification, created_at_ms) VALUES ('TAXREF', 'Refund', 'tax_refund', 0, 1)").await;
        exec(pool, "INSERT INTO benefit_batches (batch_no, payer_code, batch_id, program_code, period, declared_lines, \
            declared_total_fen, content_hash, status, received_lines, done_through, submitted_by, created_at_ms, updated_at_ms) \
            VALUES (1, 'TAX-XM', 'B1', 'TAXREF', '2026-10', 4, 400, 'h', 'done', 4, 4, 'tax.staff', 1, 1)").await;
        exec(
            pool,
            &format!(
                "INSERT INTO benefit_payments (end_to_end_id, payer_code, program_code, period, person_id, batch_no, \
            seq, amount_fen, card_no, bank_code, account_no, status, paid_at_ms) \
            VALUES ('SSB1L1', 'TAX-XM', 'TAXREF', '2026-10', 'p1', 1, 1, 100, 'A00000001', 'ICBC', '{PAN}', 'paid', 1)"
            ),
        )
        .await;
    }
    let other = resident_number(90 + u32::try_from(seq).unwrap_or(0));
    exec(
        pool,
        &format!(
            "INSERT INTO benefit_lines (batch_no, seq, line_id, ssn, name, amount_fen, outcome, person_id, card_no, \
        bank_code, account_no, end_to_end_id, decided_at_ms) VALUES \
        (1, {seq}, 'L{seq}', '{ssn}', '{name}', 100, 'paid', 'p1', 'A00000001', 'ICBC', '{PAN}', 'SSB1L{seq}', 1), \
        (1, {}, 'L{}', '{other}', '{ghost}', 100, 'unknown_person', NULL, NULL, NULL, NULL, NULL, 1)",
            seq + 1,
            seq + 1
        ),
    )
    .await;
}

/// The lines of batch 1 as (ssn, name, account) and the person p1's paid accounts.
async fn benefit_reads(store: &dyn Store) -> (Vec<(String, String, Option<String>)>, Vec<String>) {
    let mut tx = store.read().await.expect("read");
    let lines = tx.batch_lines(1, None, 0, 10).await.expect("lines");
    let mine = tx.benefits_of_person("p1", 10).await.expect("benefits");
    tx.commit().await.expect("commit");
    (
        lines.into_iter().map(|l| (l.ssn, l.name, l.account_no)).collect(),
        mine.into_iter().map(|b| b.payment.account_no).collect(),
    )
}

/// Migration 0029 copied the lines into their new shape on SQLite (every column kept) and
/// counted the paid line of batch 1 on the batch.
async fn migrated_lines_keep_their_columns_and_counts(store: &dyn Store) {
    use sscard_domain::benefits::LineOutcome;
    let mut tx = store.read().await.expect("read");
    let counts = tx.outcome_counts(1).await.expect("counts");
    let lines = tx.batch_lines(1, None, 0, 10).await.expect("lines");
    let refused = tx.batch_lines(1, Some(LineOutcome::UnknownPerson), 0, 10).await.expect("refused lines");
    tx.commit().await.expect("commit");
    let counted: Vec<_> = counts.iter().map(|c| (c.outcome, c.lines, c.total_fen)).collect();
    assert_eq!(counted, vec![(Some(LineOutcome::Paid), 1, 100), (Some(LineOutcome::UnknownPerson), 1, 100)]);
    let paid = &lines[0];
    assert_eq!(
        (paid.line_id.as_str(), paid.outcome, paid.end_to_end_id.as_deref(), paid.card_no.as_deref()),
        ("L1", Some(LineOutcome::Paid), Some("SSB1L1"), Some("A00000001"))
    );
    assert_eq!(refused.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(), ["L2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_benefit_rows_from_before_0014_are_sealed_at_open_also_after_a_cut_off() {
    for db in databases().await {
        let pool = raw_pool(&db).await;
        sscard_store_sql::migrate::run(&pool, &db.migrations()[..13]).await.expect("migrations 1..13");
        insert_clear(&pool, 1).await;
        insert_clear_benefits(&pool, 1, "司马甲").await;
        pool.close().await;
        let keys = DataKeys::ephemeral();
        let store = sscard_store_sql::open(&db.url(), keys.clone()).await.expect("open converts");
        let (ssn, name, pan) = (resident_number(1), test_name(1), Some(PAN.to_string()));
        let line = |s: &str, n: &str, a: Option<String>| (s.to_string(), n.to_string(), a);
        let want = vec![line(&ssn, &name, pan.clone()), line(&resident_number(91), "司马甲", None)];
        assert_eq!(benefit_reads(store.as_ref()).await, (want.clone(), vec![PAN.to_string()]));
        migrated_lines_keep_their_columns_and_counts(store.as_ref()).await;
        store.close().await;

        // Rows written in clear after a cut-off conversion (key_version NULL) are sealed at the next start.
        let pool = raw_pool(&db).await;
        insert_clear_benefits(&pool, 3, "司马乙").await;
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM benefit_lines WHERE key_version IS NULL").await, 2);
        pool.close().await;
        let store = sscard_store_sql::open(&db.url(), keys.clone()).await.expect("open continues");
        let mut want = want;
        want.extend([line(&ssn, &name, pan.clone()), line(&resident_number(93), "司马乙", None)]);
        assert_eq!(benefit_reads(store.as_ref()).await.0, want);
        store.close().await;
        let pool = raw_pool(&db).await;
        for sql in [
            "SELECT COUNT(*) FROM benefit_lines WHERE key_version IS NULL OR ssn NOT LIKE 'v%.%' OR name NOT LIKE 'v%.%'",
            "SELECT COUNT(*) FROM benefit_lines WHERE account_no IS NOT NULL AND account_no NOT LIKE 'v%.%'",
            "SELECT COUNT(*) FROM benefit_payments WHERE key_version IS NULL OR account_no NOT LIKE 'v%.%'",
        ] {
            assert_eq!(count(&pool, sql).await, 0, "{sql}");
        }
        pool.close().await;
        if let Some(bytes) = db.file_bytes() {
            assert_not_in(&bytes, &[ssn, name, PAN.to_string(), "司马甲".into(), "司马乙".into(), resident_number(93)]);
        }
    }
}
