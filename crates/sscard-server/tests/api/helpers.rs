//! The one harness of the HTTP tests (zero-to-production's `spawn_app`): every test gets a
//! fresh database (SQLite by default, PostgreSQL with SSCARD_TEST_DATABASE=postgres), the
//! real router served on 127.0.0.1:0 (with the scheduler's background loops if asked), a
//! FixedClock it can move, its own ephemeral issuer keys, seeded banks, branches and users,
//! logged-in tokens for every role and a terminal, and holders with cards made through the
//! use cases. Requests go over real HTTP with reqwest.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use sscard_app::cards::ActionInput;
use sscard_app::{Ctx, admin, applications, cards, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::{CardAction, Pin};
use sscard_domain::clock::{Clock as _, FixedClock};
use sscard_domain::document::{DocType, make_resident_id};
use sscard_domain::ids::{BankCode, Bin, BranchCode, CardNo, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_domain::policy::Policy;
use sscard_gm::offline::{OfflineVerifier, PublishedKey, hex_ids};
use sscard_server::AppState;
use sscard_server::keys::KeyManager;
use sscard_store::{Bank, Branch, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use time::Date;
use time::macros::date;

/// Password of every seeded login.
pub const PASSWORD: &str = "test-password-1";
/// The insured region of the test persons (Xiamen, Siming district).
pub const REGION: &str = "350203";
/// The region of the seeded branches.
pub const CITY: &str = "350200";
pub const ICBC: &str = "ICBC";
pub const ICBC_BIN: &str = "622202";
pub const CMB: &str = "CMB";
pub const CMB_BIN: &str = "621483";
/// ICBC branch with a card printer (instant issuance).
pub const PRINTER_BRANCH: &str = "ICBC-SM";
/// ICBC branch without a printer.
pub const PLAIN_BRANCH: &str = "ICBC-HL";
pub const CMB_BRANCH: &str = "CMB-HL";
/// A PIN that is not trivial.
pub const GOOD_PIN: &str = "739164";
/// The day the test clock starts on: a Monday, 09:00 China time.
pub const START: Date = date!(2026 - 03 - 02);

/// Bearer tokens of the seeded users.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub admin: String,
    pub clerk: String,
    pub teller_icbc: String,
    /// A second ICBC teller (another branch desk).
    pub teller_icbc2: String,
    pub teller_cmb: String,
    /// Holder of `holder1_person`.
    pub holder1: String,
    /// Holder of `holder2_person`.
    pub holder2: String,
    /// The `gate1` terminal login (verifies e-card QR codes).
    pub terminal: String,
}

/// The test database, held only to be dropped after the server and its pool.
#[allow(dead_code)]
enum Db {
    Sqlite(sscard_store_sql::sqlite::TempDatabase),
    Postgres(sscard_store_sql::postgres::TempDatabase),
}

/// One running server with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<FixedClock>,
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    /// The persons the two holder logins belong to.
    pub holder1_person: String,
    pub holder2_person: String,
    /// The issuer keys the server signs QR codes with.
    pub keys: Arc<KeyManager>,
    /// The database URL, for a second process's view of it.
    pub db_url: String,
    /// The keys the store seals personal data with (a second handle needs them too).
    pub data_keys: sscard_store_sql::DataKeys,
    seq: AtomicU16,
    /// Numbers the persons of [`TestApp::person_with_card`] and their logins.
    holder_seq: AtomicU16,
    server: tokio::task::JoinHandle<()>,
    // Dropped last: the database outlives the server and the pool.
    _db: Db,
}

/// Stops a background task when its owner goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A holder with a card.
#[derive(Debug, Clone)]
pub struct Holder {
    pub person_id: String,
    pub card_no: String,
    /// Bearer token of the holder's login.
    pub token: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the server answered.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    /// The body as JSON, or Null when it is not JSON.
    pub json: Value,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    pub fn content_type(&self) -> String {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// The string at a JSON pointer ("/card/status"), or "" when absent.
    pub fn str(&self, pointer: &str) -> String {
        self.json.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_string()
    }
    /// Asserts the status, with the body in the message.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        self
    }
    /// Asserts a problem+json answer with this status and `urn:sscard:problem:<code>`.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        assert_eq!(self.content_type(), "application/problem+json", "body: {}", self.text());
        assert_eq!(self.json["type"], format!("urn:sscard:problem:{code}"), "body: {}", self.text());
        assert_eq!(self.json["status"], status, "body: {}", self.text());
        assert!(self.json["title"].as_str().is_some_and(|t| !t.is_empty()), "title missing: {}", self.text());
        assert!(self.json["detail"].as_str().is_some_and(|t| !t.is_empty()), "detail missing: {}", self.text());
        self
    }
    /// Asserts the `field` of a problem answer.
    #[track_caller]
    pub fn field(&self, field: &str) -> &Self {
        assert_eq!(self.json["field"], field, "body: {}", self.text());
        self
    }
    /// The problem code of a problem+json answer (`urn:sscard:problem:<code>`), or "".
    pub fn code(&self) -> String {
        self.json["type"].as_str().unwrap_or("").trim_start_matches("urn:sscard:problem:").to_string()
    }
    /// Asserts the `current_state` of a 409 answer.
    #[track_caller]
    pub fn state(&self, state: &str) -> &Self {
        assert_eq!(self.json["current_state"], state, "body: {}", self.text());
        self
    }
}

/// Which backend the tests run on (SSCARD_TEST_DATABASE=postgres selects PostgreSQL).
pub fn backend() -> &'static str {
    match std::env::var("SSCARD_TEST_DATABASE").as_deref() {
        Ok("postgres") | Ok("postgresql") => "postgres",
        _ => "sqlite",
    }
}

/// The context the harness (and a test acting beside the server) runs use cases in.
pub fn ctx(now_ms: i64) -> Ctx {
    let mut ctx = Ctx::new(Actor::system("test-seed"), now_ms, Policy::default());
    ctx.hash_iterations = 1000;
    ctx
}

/// A registration input for a resident ID card holder.
pub fn resident(doc_number: &str, name: &str) -> RegistrationInput {
    RegistrationInput {
        doc_type: DocType::ResidentId,
        doc_number: doc_number.to_string(),
        name: name.to_string(),
        sex: None,
        birth_date: None,
        region: RegionCode::parse(REGION).expect("region"),
        guardian_id: None,
        relationship_proof: None,
    }
}

impl TestApp {
    /// Spawns the app with the default policy.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Policy::default()).await
    }

    /// Spawns the app with this policy.
    pub async fn spawn_with(policy: Policy) -> TestApp {
        Self::spawn_app(policy, false, Default::default(), None).await
    }

    /// Spawns the app with the server's background loops running (jobs every hour, outbox tail).
    pub async fn spawn_with_scheduler() -> TestApp {
        Self::spawn_app(Policy::default(), true, Default::default(), None).await
    }

    /// Spawns the app on a fresh database, seeds banks, branches and users, and logs everyone in.
    /// Spawns the app whose way to the national hub is `national` (filled once the hub is up).
    pub async fn spawn_in_nation(national: sscard_server::routes::national::NationalSlot) -> TestApp {
        Self::spawn_app(Policy::default(), false, national, None).await
    }

    /// Spawns the app as the national hub (`serve --hub`, its routes mounted), with `key` as
    /// the key of the national blind index.
    pub async fn spawn_hub(key: sscard_app::hub::IndexKey) -> TestApp {
        Self::spawn_app(Policy::default(), false, Default::default(), Some(key)).await
    }

    async fn spawn_app(
        policy: Policy,
        scheduler: bool,
        national: sscard_server::routes::national::NationalSlot,
        hub: Option<sscard_app::hub::IndexKey>,
    ) -> TestApp {
        let (db, url) = match backend() {
            "postgres" => {
                let db = sscard_store_sql::postgres::TempDatabase::create().await.expect(
                    "create a PostgreSQL test database (is PostgreSQL up at SSCARD_TEST_PG_URL or 127.0.0.1:5432?)",
                );
                let url = db.url();
                (Db::Postgres(db), url)
            }
            _ => {
                let db = sscard_store_sql::sqlite::TempDatabase::new();
                let url = db.url();
                (Db::Sqlite(db), url)
            }
        };
        // One in-memory master key seals the issuer keys and the personal data.
        let master = sscard_server::keys::MasterKey::ephemeral();
        let data_keys = master.data_keys();
        let store = sscard_store_sql::open(&url, data_keys.clone()).await.expect("open the test store");
        let clock = Arc::new(FixedClock::at_date(START));
        let keys = Arc::new(KeyManager::new(&master));
        let mut state = AppState::new(store.clone(), clock.clone(), policy).with_keys(keys.clone());
        state.hash_iterations = 1000;
        state.national = national;
        let state = state.with_hub(hub);
        let background = scheduler.then(|| sscard_server::scheduler::spawn(state.clone(), 3600));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let router = sscard_server::build_router(state);
        let server = tokio::spawn(async move {
            let _background = background.map(AbortOnDrop);
            axum::serve(listener, router).await.expect("serve");
        });

        let ctx = ctx(clock.now_ms());
        seed_org(store.as_ref(), &ctx).await;
        let holder1 = persons::register(
            store.as_ref(),
            &ctx,
            resident(&make_resident_id(rc(REGION), date!(1980 - 05 - 17), 901), "林一"),
        )
        .await
        .expect("seed holder 1")
        .id;
        let holder2 = persons::register(
            store.as_ref(),
            &ctx,
            resident(&make_resident_id(rc(REGION), date!(1982 - 07 - 23), 902), "陈二"),
        )
        .await
        .expect("seed holder 2")
        .id;
        let users: [(&str, Role, Option<&str>, Option<&str>); 8] = [
            ("admin", Role::Admin, None, None),
            ("clerk", Role::Clerk, None, None),
            ("teller.icbc", Role::Teller, None, Some(ICBC)),
            ("teller.icbc2", Role::Teller, None, Some(ICBC)),
            ("teller.cmb", Role::Teller, None, Some(CMB)),
            ("holder1", Role::Holder, Some(holder1.as_str()), None),
            ("holder2", Role::Holder, Some(holder2.as_str()), None),
            ("gate1", Role::Terminal, None, None),
        ];
        for (name, role, person, bank) in users {
            admin::add_user(
                store.as_ref(),
                &ctx,
                name,
                PASSWORD,
                role,
                person.map(str::to_string),
                bank.map(|b| sscard_domain::ids::BankCode::parse(b).expect("a bank code")),
            )
            .await
            .unwrap_or_else(|e| panic!("seed user {name}: {e}"));
        }

        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("http client");
        let mut app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client,
            clock,
            store,
            tokens: Tokens {
                admin: String::new(),
                clerk: String::new(),
                teller_icbc: String::new(),
                teller_icbc2: String::new(),
                teller_cmb: String::new(),
                holder1: String::new(),
                holder2: String::new(),
                terminal: String::new(),
            },
            holder1_person: holder1,
            holder2_person: holder2,
            keys,
            db_url: url,
            data_keys,
            seq: AtomicU16::new(1),
            holder_seq: AtomicU16::new(1),
            server,
            _db: db,
        };
        app.relogin().await;
        app
    }

    /// Logs every seeded user in again (sessions last 12 hours of the test clock).
    pub async fn relogin(&mut self) {
        self.tokens = Tokens {
            admin: self.login("admin").await,
            clerk: self.login("clerk").await,
            teller_icbc: self.login("teller.icbc").await,
            teller_icbc2: self.login("teller.icbc2").await,
            teller_cmb: self.login("teller.cmb").await,
            holder1: self.login("holder1").await,
            holder2: self.login("holder2").await,
            terminal: self.login("gate1").await,
        };
    }

    /// Logs `username` in with the seeded password over HTTP and returns the token.
    pub async fn login(&self, username: &str) -> String {
        let r = self.post(None, "/auth/login", &json!({ "username": username, "password": PASSWORD })).await;
        r.expect(200);
        let token = r.str("/token");
        assert!(token.len() >= 20, "token too short: {}", r.text());
        token
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    /// Sends a request and collects the whole answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        send_req(req).await
    }

    fn with_token(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Resp {
        self.send(Self::with_token(self.client.get(self.url(path)), token)).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: &Value) -> Resp {
        self.send(Self::with_token(self.client.post(self.url(path)), token).json(body)).await
    }

    /// POST with no body at all (the step and action routes).
    pub async fn post_empty(&self, token: Option<&str>, path: &str) -> Resp {
        self.send(Self::with_token(self.client.post(self.url(path)), token)).await
    }

    /// POST with an Idempotency-Key; `body` None sends no body.
    pub async fn post_idem(&self, token: &str, path: &str, key: &str, body: Option<&Value>) -> Resp {
        let mut req = self.client.post(self.url(path)).bearer_auth(token).header("Idempotency-Key", key);
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    /// POST a raw body with a content type.
    pub async fn post_raw(&self, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let req = self.client.post(self.url(path)).bearer_auth(token).header(CONTENT_TYPE, content_type).body(body);
        self.send(req).await
    }

    /// A fresh sequence number for document numbers (unique within this app).
    pub fn next_seq(&self) -> u16 {
        self.seq.fetch_add(2, Ordering::SeqCst)
    }

    /// A new valid resident ID number (male: odd sequence numbers) born on `birth`.
    pub fn resident_id(&self, birth: Date) -> String {
        make_resident_id(rc(REGION), birth, self.next_seq())
    }

    /// Registers an adult over HTTP (as the ICBC teller) and returns the person JSON.
    pub async fn register_adult(&self) -> Value {
        let doc = self.resident_id(date!(1985 - 06 - 15));
        let r = self
            .post(
                Some(&self.tokens.teller_icbc),
                "/persons",
                &json!({ "doc_type": "resident_id", "doc_number": doc, "name": "张三", "region": REGION }),
            )
            .await;
        r.expect(201);
        r.json.clone()
    }

    /// A branch application body.
    pub fn branch_app(person_id: &str, kind: &str, branch: &str) -> Value {
        json!({ "person_id": person_id, "kind": kind, "channel": "branch", "bank_code": ICBC, "branch_code": branch })
    }

    /// Takes a first application at the plain ICBC branch (as the ICBC teller); returns its JSON.
    pub async fn apply_branch(&self, person_id: &str) -> Value {
        let r = self
            .post(Some(&self.tokens.teller_icbc), "/applications", &Self::branch_app(person_id, "first", PLAIN_BRANCH))
            .await;
        r.expect(201);
        r.json.clone()
    }

    /// Moves an application one step and asserts success.
    pub async fn step(&self, token: &str, app_id: &str, step: &str) -> Value {
        let r = self.post_empty(Some(token), &format!("/applications/{app_id}/{step}")).await;
        r.expect(200);
        r.json.clone()
    }

    /// approve (clerk) -> produce -> ready -> collect (ICBC teller); returns the card number.
    pub async fn run_to_collected(&self, app_id: &str) -> String {
        self.step(&self.tokens.clerk, app_id, "approve").await;
        self.step(&self.tokens.teller_icbc, app_id, "produce").await;
        self.step(&self.tokens.teller_icbc, app_id, "ready").await;
        let done = self.step(&self.tokens.teller_icbc, app_id, "collect").await;
        assert_eq!(done["status"], "collected");
        assert_eq!(done["card"]["status"], "issued");
        done["card_no"].as_str().expect("card_no").to_string()
    }

    /// A card issued (handed over, not active) to `person_id` through a branch application.
    pub async fn issued_card(&self, person_id: &str) -> String {
        let app = self.apply_branch(person_id).await;
        self.run_to_collected(app["id"].as_str().expect("id")).await
    }

    /// Activates a card (as the ICBC teller) with a good PIN.
    pub async fn activate(&self, card_no: &str) -> Value {
        let r = self
            .post(Some(&self.tokens.teller_icbc), &format!("/cards/{card_no}/activate"), &json!({ "pin": GOOD_PIN }))
            .await;
        r.expect(200);
        assert_eq!(r.json["status"], "active");
        r.json.clone()
    }

    /// An active card of `person_id`.
    pub async fn active_card(&self, person_id: &str) -> String {
        let card = self.issued_card(person_id).await;
        self.activate(&card).await;
        card
    }

    /// GET /stats/overview as the clerk.
    pub async fn overview(&self) -> Value {
        let r = self.get(Some(&self.tokens.clerk), "/stats/overview").await;
        r.expect(200);
        r.json.clone()
    }

    /// GET a card as admin and return its status.
    pub async fn card_status(&self, card_no: &str) -> String {
        let r = self.get(Some(&self.tokens.admin), &format!("/cards/{card_no}")).await;
        r.expect(200);
        r.str("/status")
    }

    /// Number of changes recorded so far. Every change writes its outbox event and its audit
    /// record in one transaction; the audit records are counted because on PostgreSQL the
    /// event feed holds back events while any older transaction in the cluster is in flight.
    pub async fn event_count(&self) -> usize {
        let mut tx = self.store.read().await.expect("read tx");
        let mut n = tx.unsealed_audit(10_000).await.expect("unsealed audit").len();
        let mut after = 0;
        loop {
            let batch = tx.audit_chain(after, 5000).await.expect("audit chain");
            if batch.is_empty() {
                break;
            }
            n += batch.len();
            after = batch.last().and_then(|r| r.chain_pos).unwrap_or(after + batch.len() as i64);
        }
        tx.commit().await.expect("commit");
        n
    }

    /// The full PAN of a card, straight from the store (the API only shows it masked).
    pub async fn full_pan(&self, card_no: &str) -> String {
        let mut tx = self.store.read().await.expect("read tx");
        let card = tx.get_card(card_no, false).await.expect("get card").expect("card exists");
        tx.commit().await.expect("commit");
        card.pan.expect("formal card has a PAN").as_str().to_string()
    }

    /// The test clock now, in milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The test clock now, in seconds.
    pub fn now_s(&self) -> i64 {
        self.now_ms() / 1000
    }

    /// Moves the test clock forward by `s` seconds.
    pub fn advance_s(&self, s: i64) {
        self.clock.set(self.now_ms() + s * 1000);
    }

    /// Registers a person (born 1990 + n days) and issues a card at the instant branch;
    /// `activate` also activates it. Creates a login of `role` linked to the person.
    pub async fn person_with_card(&self, role: Role, activate: bool) -> Holder {
        let n = self.holder_seq.fetch_add(1, Ordering::SeqCst);
        let c = ctx(self.now_ms());
        let birth = date!(1990 - 01 - 01) + time::Duration::days(i64::from(n) * 37);
        let input = RegistrationInput {
            doc_number: make_resident_id(rc(REGION), birth, n % 900 + 10),
            ..resident("", &sscard_conformance::test_name(u32::from(n)))
        };
        let person = persons::register(self.store.as_ref(), &c, input).await.expect("register");
        let card_no = self.instant_card(&person.id, AppKind::First).await;
        if activate {
            self.activate_in_store(&card_no).await;
        }
        let username = format!("user{n}");
        admin::add_user(self.store.as_ref(), &c, &username, PASSWORD, role, Some(person.id.clone()), None)
            .await
            .expect("user");
        let token = self.login(&username).await;
        Holder { person_id: person.id, card_no, token }
    }

    /// An instant application at the ICBC printer branch, through the use case; answers the
    /// issued card number.
    pub async fn instant_card(&self, person_id: &str, kind: AppKind) -> String {
        let c = ctx(self.now_ms());
        let input = ApplicationInput {
            kind,
            channel: Channel::BranchInstant,
            bank_code: BankCode::parse(ICBC).expect("bank"),
            branch_code: Some(BranchCode::parse(PRINTER_BRANCH).expect("branch")),
            mail_address: None,
            reason: (kind == AppKind::Replacement).then_some(ReplacementReason::Lost),
        };
        let view = applications::apply(self.store.as_ref(), &c, person_id, input).await.expect("apply");
        if view.application.status == sscard_domain::application::AppStatus::ReadyForPickup {
            // A card with a fee waits at the counter for it: waived here, then handed over.
            let reason = sscard_domain::handover::StaffReason::parse("test: fee waived", "reason").expect("reason");
            applications::waive_fee(self.store.as_ref(), &c, &view.application.id, &reason).await.expect("waive");
            let collect = sscard_domain::application::AppStep::Collect;
            applications::step(self.store.as_ref(), &c, &view.application.id, collect).await.expect("collect");
        }
        view.application.card_no.expect("instant card")
    }

    /// Activates a card with [`GOOD_PIN`] through the use case (no HTTP, no login).
    async fn activate_in_store(&self, card_no: &str) {
        let c = ctx(self.now_ms());
        let input = ActionInput { pin: Some(Pin::parse(GOOD_PIN).expect("pin")), ..Default::default() };
        let card_no = CardNo::parse(card_no).expect("card number");
        cards::act(self.store.as_ref(), &c, &card_no, CardAction::Activate, input).await.expect("activate");
    }

    /// A QR token for `person_id` (or the caller's own person) made by the holder of `token`.
    pub async fn qr(&self, token: &str, person_id: Option<&str>) -> Resp {
        let body = match person_id {
            Some(p) => json!({ "person_id": p }),
            None => json!({}),
        };
        self.post(Some(token), "/ecard/qr", &body).await
    }

    /// The QR token of the holder of `token`.
    pub async fn qr_token(&self, token: &str) -> String {
        self.qr(token, None).await.expect(200).json["token"].as_str().expect("token").to_string()
    }

    /// The online verdict on a QR token, asked by the terminal.
    pub async fn verify(&self, qr: &str) -> Value {
        self.post(Some(&self.tokens.terminal), "/ecard/verify", &json!({ "token": qr })).await.expect(200).json.clone()
    }

    /// An offline verifier loaded like a terminal: keys and the full revocation list.
    pub async fn offline(&self) -> OfflineVerifier {
        let keys: Vec<PublishedKey> =
            serde_json::from_value(self.get(None, "/ecard/keys").await.expect(200).json.clone()).expect("keys");
        let full = self.get(None, "/revocations?since=0").await.expect(200).json.clone();
        let revoked =
            full["revoked"].as_array().expect("revoked").iter().map(|v| hex_ids::decode(v.as_str().unwrap()).unwrap());
        let mut v = OfflineVerifier::new(&keys, revoked, 30).expect("verifier");
        v.set_revocations_seq(full["next_since"].as_i64().expect("next_since") as u64);
        v
    }

    /// Applies the revocation changes after the verifier's sequence number. On PostgreSQL an
    /// event becomes visible to the feed once every older transaction of its database has ended
    /// (tests of other databases run in parallel), so changes are awaited up to five seconds.
    pub async fn sync(&self, v: &mut OfflineVerifier) -> Vec<Value> {
        let mut page = Value::Null;
        for _ in 0..100 {
            page =
                self.get(None, &format!("/revocations?since={}", v.revocations_seq())).await.expect(200).json.clone();
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

    /// Committed events (waiting, like [`TestApp::sync`], until `kind` is visible).
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
}

/// Sends a request and collects the whole answer (usable from spawned tasks).
pub async fn send_req(req: reqwest::RequestBuilder) -> Resp {
    let resp = req.send().await.expect("request failed");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("read body").to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp { status, headers, bytes, json }
}

/// `n` in Chinese digits ("一二"), for names (a name has no ASCII digits).
pub fn rc(code: &str) -> RegionCode {
    RegionCode::parse(code).expect("region code")
}

/// The count under `key` in one of the overview's bucket lists (0 when absent).
pub fn bucket(overview: &Value, list: &str, key: &str) -> i64 {
    overview[list]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["key"] == key))
        .and_then(|c| c["count"].as_i64())
        .unwrap_or(0)
}

/// The sum of one of the overview's bucket lists.
pub fn total(overview: &Value, list: &str) -> i64 {
    overview[list].as_array().map(|a| a.iter().filter_map(|c| c["count"].as_i64()).sum()).unwrap_or(0)
}

async fn seed_org(store: &dyn Store, ctx: &Ctx) {
    for (code, name, bin) in [(ICBC, "中国工商银行", ICBC_BIN), (CMB, "招商银行", CMB_BIN)] {
        admin::add_bank(
            store,
            ctx,
            Bank { code: BankCode::parse(code).expect("code"), name: name.into(), bin: Bin::parse(bin).expect("bin") },
        )
        .await
        .expect("seed bank");
    }
    for (bank, code, region, printer) in
        [(ICBC, PRINTER_BRANCH, CITY, true), (ICBC, PLAIN_BRANCH, REGION, false), (CMB, CMB_BRANCH, REGION, false)]
    {
        admin::add_branch(
            store,
            ctx,
            Branch {
                bank_code: BankCode::parse(bank).expect("bank"),
                code: BranchCode::parse(code).expect("branch"),
                name: format!("{code} branch"),
                region: rc(region),
                has_printer: printer,
            },
        )
        .await
        .expect("seed branch");
    }
}
