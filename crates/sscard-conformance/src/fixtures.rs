//! Fixtures of the conformance suite, shared with the HTTP tests: a fixed clock, actors,
//! a seeded bank with a printer branch and a plain branch, valid ID numbers, helpers
//! that drive applications and cards, and exact counters that see every committed row.
//!
//! Setup helpers panic with a message when a step that must work does not: they build
//! the situation a case then asserts on.

use sscard_app::Ctx;
use sscard_app::applications::ApplicationView;
use sscard_app::cards::ActionInput;
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, AppStep, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::{CancelReason, Card, CardAction, StopReason};
use sscard_domain::clock::{DAY_MS, start_of_day_ms};
use sscard_domain::document::{DocType, gb11643_check_char, make_resident_id};
use sscard_domain::error::{DomainError, ErrorKind};
use sscard_domain::ids::{BankCode, Bin, BranchCode, CardNo, RegionCode};
use sscard_domain::person::{Person, RegistrationInput};
use sscard_domain::policy::Policy;
use sscard_store::model::{Bank, Branch, Count, Event, Overview};
use sscard_store::{Result, Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use time::macros::date;
use time::{Date, Duration};

/// The day every case starts on: Monday 2 March 2026.
pub const TODAY: Date = date!(2026 - 03 - 02);
/// The insured region of the test persons and the branches (Xiamen).
pub const REGION: &str = "350200";
/// The region in the test persons' resident ID numbers (Siming district, Xiamen).
pub const ID_REGION: &str = "350203";
/// The partner bank and its BIN.
pub const BANK: &str = "ICBC";
pub const BIN: &str = "622202";
/// A second bank, for the bank-scoping rules.
pub const OTHER_BANK: &str = "CCB";
pub const OTHER_BIN: &str = "621700";
/// ICBC's branch with a card printer (立等可取) and its branch without one.
pub const PRINTER_BRANCH: &str = "XM-SIMING";
pub const PLAIN_BRANCH: &str = "XM-HULI";
/// CCB's only branch (with a printer).
pub const OTHER_BRANCH: &str = "XM-JIMEI";
/// A PIN that is not trivial.
pub const GOOD_PIN: &str = "739164";
/// PBKDF2 iterations in tests (production keeps the default).
pub const TEST_HASH_ITERATIONS: u32 = 1000;
/// Events and audit records written by [`seed`]: two banks and three branches.
pub const SEED_RECORDS: usize = 5;
/// A mailing address for online applications.
pub const MAIL_ADDRESS: &str = "福建省厦门市思明区展鸿路82号";

/// 09:00 China time on [`TODAY`], in unix milliseconds.
pub fn base_ms() -> i64 {
    start_of_day_ms(TODAY) + 9 * 3_600_000
}

/// 09:00 China time `days` after [`TODAY`].
pub fn days_later_ms(days: i64) -> i64 {
    base_ms() + days * DAY_MS
}

/// 09:00 China time on `date`.
pub fn at_date_ms(date: Date) -> i64 {
    start_of_day_ms(date) + 9 * 3_600_000
}

/// [`TODAY`] plus `days`.
pub fn today_plus(days: i64) -> Date {
    TODAY + Duration::days(days)
}

pub fn admin() -> Actor {
    Actor { name: "admin".to_string(), role: Role::Admin, person_id: None, bank_code: None }
}

/// A card office clerk (人社经办).
pub fn clerk() -> Actor {
    Actor { name: "clerk.xm".to_string(), role: Role::Clerk, person_id: None, bank_code: None }
}

/// A teller of `bank`, named `teller.<bank in lower case>`.
pub fn teller(bank: &str) -> Actor {
    Actor {
        name: format!("teller.{}", bank.to_ascii_lowercase()),
        role: Role::Teller,
        person_id: None,
        bank_code: Some(bank.to_string()),
    }
}

/// The holder account of `person`.
pub fn holder(person: &Person) -> Actor {
    Actor {
        name: format!("holder.{}", person.id),
        role: Role::Holder,
        person_id: Some(person.id.clone()),
        bank_code: None,
    }
}

/// A context at 09:00 on [`TODAY`].
pub fn ctx(actor: Actor) -> Ctx {
    ctx_at(actor, base_ms())
}

/// A context at `now_ms`, default policy, fast password hashing.
pub fn ctx_at(actor: Actor, now_ms: i64) -> Ctx {
    Ctx { actor, now_ms, policy: Policy::default(), hash_iterations: TEST_HASH_ITERATIONS, idem: None, nation: None }
}

/// The context a scheduled job runs with.
pub fn job_ctx(job: sscard_app::jobs::Job, now_ms: i64) -> Ctx {
    ctx_at(Actor::system(job.name()), now_ms)
}

fn parse<T, E: std::fmt::Debug>(r: std::result::Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("fixture {what} does not parse: {e:?}"),
    }
}

pub fn region() -> RegionCode {
    parse(RegionCode::parse(REGION), REGION)
}

pub fn id_region() -> RegionCode {
    parse(RegionCode::parse(ID_REGION), ID_REGION)
}

pub fn bank_code(code: &str) -> BankCode {
    parse(BankCode::parse(code), code)
}

pub fn branch_code(code: &str) -> BranchCode {
    parse(BranchCode::parse(code), code)
}

/// What [`seed`] created.
#[derive(Debug, Clone)]
pub struct Seed {
    pub bank: Bank,
    pub other_bank: Bank,
    pub printer_branch: Branch,
    pub plain_branch: Branch,
    pub other_branch: Branch,
}

/// ICBC (BIN 622202) with a printer branch and a plain branch, and CCB (BIN 621700)
/// with one printer branch, all in region 350200. Writes [`SEED_RECORDS`] records.
pub async fn seed(store: &dyn Store) -> Seed {
    let c = ctx(admin());
    let bank = |code: &str, name: &str, bin: &str| Bank {
        code: bank_code(code),
        name: name.to_string(),
        bin: parse(Bin::parse(bin), bin),
    };
    let branch = |bank: &str, code: &str, name: &str, has_printer: bool| Branch {
        bank_code: bank_code(bank),
        code: branch_code(code),
        name: name.to_string(),
        region: region(),
        has_printer,
    };
    let banks = [bank(BANK, "中国工商银行", BIN), bank(OTHER_BANK, "中国建设银行", OTHER_BIN)];
    let branches = [
        branch(BANK, PRINTER_BRANCH, "工行厦门思明支行", true),
        branch(BANK, PLAIN_BRANCH, "工行厦门湖里支行", false),
        branch(OTHER_BANK, OTHER_BRANCH, "建行厦门集美支行", true),
    ];
    for b in &banks {
        sscard_app::admin::add_bank(store, &c, b.clone()).await.expect("seeding a bank");
    }
    for b in &branches {
        sscard_app::admin::add_branch(store, &c, b.clone()).await.expect("seeding a branch");
    }
    let [bank, other_bank] = banks;
    let [printer_branch, plain_branch, other_branch] = branches;
    Seed { bank, other_bank, printer_branch, plain_branch, other_branch }
}

/// The name of the `n`-th test person: 测试 and `n` in Chinese numerals (names hold letters,
/// not digits), e.g. 测试一二 for 12.
pub fn test_name(n: u32) -> String {
    const NUMERALS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let digits = n.to_string().chars().map(|d| NUMERALS[d.to_digit(10).unwrap_or(0) as usize]).collect::<String>();
    format!("测试{digits}")
}

/// The birth date of the `n`-th adult test person: 1985-01-01 plus `n` days.
pub fn adult_birth(n: u32) -> Date {
    date!(1985 - 01 - 01) + Duration::days(n as i64)
}

/// A valid resident ID number of the `n`-th adult test person (odd `n` male, even female).
pub fn resident_number(n: u32) -> String {
    make_resident_id(id_region(), adult_birth(n), (n % 1000) as u16)
}

/// A resident ID number of someone born on `birth`, with sequence `seq` (odd = male).
pub fn resident_number_born(birth: Date, seq: u16) -> String {
    make_resident_id(id_region(), birth, seq)
}

/// 17 digits and their GB 11643 check character.
pub fn with_check_char(first17: &str) -> String {
    match gb11643_check_char(first17.as_bytes()) {
        Some(c) => format!("{first17}{c}"),
        None => panic!("fixture {first17:?} is not 17 digits"),
    }
}

/// A registration with a resident ID number; sex and birth date left to the number.
pub fn resident_input(number: &str, name: &str) -> RegistrationInput {
    RegistrationInput {
        doc_type: DocType::ResidentId,
        doc_number: number.to_string(),
        name: name.to_string(),
        sex: None,
        birth_date: None,
        region: region(),
        guardian_id: None,
        relationship_proof: None,
    }
}

/// The registration of the `n`-th adult test person.
pub fn adult_input(n: u32) -> RegistrationInput {
    resident_input(&resident_number(n), &test_name(n))
}

/// Registers the `n`-th adult test person (as a clerk).
pub async fn register(store: &dyn Store, n: u32) -> Person {
    register_input(store, adult_input(n)).await
}

/// Registers `input` (as a clerk); it must be accepted.
pub async fn register_input(store: &dyn Store, input: RegistrationInput) -> Person {
    match sscard_app::persons::register(store, &ctx(clerk()), input).await {
        Ok(p) => p,
        Err(e) => panic!("registration should be accepted: {e:?}"),
    }
}

/// An application request.
pub fn app_input(
    kind: AppKind,
    channel: Channel,
    bank: &str,
    branch: Option<&str>,
    mail_address: Option<&str>,
    reason: Option<ReplacementReason>,
) -> ApplicationInput {
    ApplicationInput {
        kind,
        channel,
        bank_code: bank_code(bank),
        branch_code: branch.map(branch_code),
        mail_address: mail_address.map(str::to_string),
        reason,
    }
}

/// A first application at ICBC's plain branch (made by the card bureau, picked up there).
pub fn branch_first() -> ApplicationInput {
    app_input(AppKind::First, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None)
}

/// A first application at ICBC's printer branch, issued on the spot.
pub fn instant_first() -> ApplicationInput {
    app_input(AppKind::First, Channel::BranchInstant, BANK, Some(PRINTER_BRANCH), None, None)
}

/// A first application online at ICBC, mailed to [`MAIL_ADDRESS`].
pub fn online_first() -> ApplicationInput {
    app_input(AppKind::First, Channel::Online, BANK, None, Some(MAIL_ADDRESS), None)
}

/// Takes an application that must be accepted. An instant card with a fee waits at the
/// counter for it: the fixture then pays it in cash (into a float funded for it) and hands the
/// card over, as the teller does, so instant applications end collected.
pub async fn apply(store: &dyn Store, c: &Ctx, person_id: &str, input: ApplicationInput) -> ApplicationView {
    let view = match sscard_app::applications::apply(store, c, person_id, input).await {
        Ok(v) => v,
        Err(e) => panic!("the application should be accepted: {e:?}"),
    };
    let app = &view.application;
    if app.channel.is_instant() && app.status == sscard_domain::application::AppStatus::ReadyForPickup {
        pay_fee(store, c, &app.id).await;
        return step(store, c, &app.id, AppStep::Collect).await;
    }
    view
}

/// Pays an application's fee in cash at its bank's desk (funding the desk's float with it first).
pub async fn pay_fee(store: &dyn Store, c: &Ctx, app_id: &str) {
    let app = application(store, app_id).await.application;
    fund_float(store, &format!("CASH-{}", app.bank_code), app.fee_fen.value()).await;
    if let Err(e) = sscard_app::onecard::ledger::collect_fee(store, c, app_id).await {
        panic!("the fee of {app_id} should be collected: {e:?}");
    }
}

/// Moves an application one step; the step must be accepted.
pub async fn step(store: &dyn Store, c: &Ctx, app_id: &str, s: AppStep) -> ApplicationView {
    match sscard_app::applications::step(store, c, app_id, s).await {
        Ok(v) => v,
        Err(e) => panic!("step {} should be accepted: {e:?}", s.as_str()),
    }
}

/// Runs `steps` in order with `c`.
pub async fn steps(store: &dyn Store, c: &Ctx, app_id: &str, list: &[AppStep]) -> ApplicationView {
    let mut last = None;
    for s in list {
        last = Some(step(store, c, app_id, *s).await);
    }
    match last {
        Some(v) => v,
        None => application(store, app_id).await,
    }
}

/// An application with its timeline, as the admin sees it.
pub async fn application(store: &dyn Store, app_id: &str) -> ApplicationView {
    match sscard_app::applications::get(store, &ctx(admin()), app_id).await {
        Ok(v) => v,
        Err(e) => panic!("application {app_id} should be readable: {e:?}"),
    }
}

/// The card an application produced.
pub fn card_of(view: &ApplicationView) -> Card {
    match &view.card {
        Some(c) => c.clone(),
        None => panic!("application {} ({}) has no card", view.application.id, view.application.status),
    }
}

/// A card number the test knows is well formed (the edge's parse, done by the test).
pub fn card_no(s: &str) -> CardNo {
    CardNo::parse(s).unwrap_or_else(|e| panic!("{s:?} is a card number: {e}"))
}

/// Runs a card action on a well-formed card number, as the server does after parsing it.
pub async fn try_act(store: &dyn Store, c: &Ctx, no: &str, action: CardAction, input: ActionInput) -> Result<Card> {
    sscard_app::cards::act(store, c, &card_no(no), action, input).await
}

/// Reads a card by a well-formed card number, as the server does after parsing it.
pub async fn try_get(store: &dyn Store, c: &Ctx, no: &str) -> Result<Card> {
    sscard_app::cards::get(store, c, &card_no(no)).await
}

/// Finds a person by a well-formed SSN, as the server does after parsing it.
pub async fn try_find_by_ssn(store: &dyn Store, c: &Ctx, ssn: &str) -> Result<sscard_app::persons::SeenPerson> {
    let ssn = sscard_domain::document::Ssn::parse(ssn).unwrap_or_else(|e| panic!("{ssn:?} is an SSN: {e}"));
    sscard_app::persons::find_by_ssn(store, c, &ssn).await
}

/// Finds a person by a well-formed number, as the desk does after parsing it.
pub async fn try_find_by_number(store: &dyn Store, c: &Ctx, no: &str) -> Result<sscard_app::persons::SeenPerson> {
    let no = sscard_domain::document::DocumentNumber::parse(no).unwrap_or_else(|e| panic!("{no:?} is a number: {e}"));
    sscard_app::persons::find_by_number(store, c, &no).await
}

/// Runs a card action that must be accepted.
pub async fn act(store: &dyn Store, c: &Ctx, card_no: &str, action: CardAction, input: ActionInput) -> Card {
    match try_act(store, c, card_no, action, input).await {
        Ok(card) => card,
        Err(e) => panic!("{} on {card_no} should be accepted: {e:?}", action.as_str()),
    }
}

/// What each action needs, so that only the card's state decides.
pub fn full_input() -> ActionInput {
    ActionInput {
        pin: Some(pin(GOOD_PIN)),
        cancel_reason: Some(CancelReason::HolderRequest),
        stop_reason: Some(stop_reason("moved to region 440300")),
    }
}

/// An activation request with `pin`.
pub fn with_pin(raw: &str) -> ActionInput {
    ActionInput { pin: Some(pin(raw)), ..Default::default() }
}

/// A PIN the test knows is good.
pub fn pin(raw: &str) -> sscard_domain::card::Pin {
    sscard_domain::card::Pin::parse(raw).unwrap_or_else(|e| panic!("{raw:?} is a good PIN: {e}"))
}

/// A stop reason the test knows is good.
pub fn stop_reason(raw: &str) -> StopReason {
    StopReason::parse(raw).unwrap_or_else(|e| panic!("{raw:?} is a stop reason: {e}"))
}

/// An issued (handed over, not active) card made on the spot at ICBC's printer branch.
pub async fn issued_card(store: &dyn Store, person: &Person) -> Card {
    let view = apply(store, &ctx(teller(BANK)), &person.id, instant_first()).await;
    card_of(&view)
}

/// An active card: issued on the spot and activated by the holder.
pub async fn active_card(store: &dyn Store, person: &Person) -> Card {
    let card = issued_card(store, person).await;
    act(store, &ctx(holder(person)), card.card_no.as_str(), CardAction::Activate, with_pin(GOOD_PIN)).await
}

/// A card as the admin sees it.
pub async fn get_card(store: &dyn Store, card_no: &str) -> Card {
    match try_get(store, &ctx(admin()), card_no).await {
        Ok(c) => c,
        Err(e) => panic!("card {card_no} should be readable: {e:?}"),
    }
}

/// All cards of a person.
pub async fn cards_of(store: &dyn Store, person_id: &str) -> Vec<Card> {
    match sscard_app::cards::of_person(store, &ctx(admin()), person_id).await {
        Ok(c) => c,
        Err(e) => panic!("cards of {person_id} should be readable: {e:?}"),
    }
}

/// How many active or suspended cards a person has (the invariant says at most one).
pub async fn live_cards(store: &dyn Store, person_id: &str) -> usize {
    cards_of(store, person_id).await.iter().filter(|c| c.status.is_live()).count()
}

/// The overview statistics.
pub async fn overview(store: &dyn Store) -> Overview {
    match sscard_app::admin::overview(store, &ctx(admin())).await {
        Ok(o) => o,
        Err(e) => panic!("the overview should be readable: {e:?}"),
    }
}

/// The count under `key`, 0 when absent.
pub fn count_of(counts: &[Count], key: &str) -> i64 {
    counts.iter().filter(|c| c.key == key).map(|c| c.count).sum()
}

/// The sum of all counts.
pub fn total(counts: &[Count]) -> i64 {
    counts.iter().map(|c| c.count).sum()
}

/// Tables whose committed rows [`row_count`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Persons,
    Applications,
    ApplicationSteps,
    Cards,
    Events,
    AuditLog,
    Idempotency,
    Counters,
}

impl Table {
    fn touch_all(self) -> &'static str {
        match self {
            Table::Persons => "UPDATE persons SET name = name",
            Table::Applications => "UPDATE applications SET status = status",
            Table::ApplicationSteps => "UPDATE application_steps SET actor = actor",
            Table::Cards => "UPDATE cards SET status = status",
            Table::Events => "UPDATE events SET at_ms = at_ms",
            Table::AuditLog => "UPDATE audit_log SET at_ms = at_ms",
            Table::Idempotency => "UPDATE idempotency SET body = body",
            Table::Counters => "UPDATE counters SET value = value",
        }
    }
}

/// The number of committed rows of `table`, counted by a no-op UPDATE that is rolled back.
/// The Store trait has no COUNT, and the outbox reader deliberately hides events of
/// transactions that might still be running; this sees every committed row at once.
pub async fn row_count(store: &dyn Store, table: Table) -> u64 {
    let mut tx = store.write().await.expect("open a transaction to count rows");
    let n = tx.execute_unchecked(table.touch_all()).await.expect("count rows");
    drop(tx);
    n
}

/// Committed rows of every table a failed operation must not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCounts {
    pub persons: u64,
    pub applications: u64,
    pub application_steps: u64,
    pub cards: u64,
    pub events: u64,
    pub audit_log: u64,
    pub idempotency: u64,
    pub counters: u64,
}

pub async fn row_counts(store: &dyn Store) -> RowCounts {
    RowCounts {
        persons: row_count(store, Table::Persons).await,
        applications: row_count(store, Table::Applications).await,
        application_steps: row_count(store, Table::ApplicationSteps).await,
        cards: row_count(store, Table::Cards).await,
        events: row_count(store, Table::Events).await,
        audit_log: row_count(store, Table::AuditLog).await,
        idempotency: row_count(store, Table::Idempotency).await,
        counters: row_count(store, Table::Counters).await,
    }
}

/// Events after `seq`, at most `limit`, read through the outbox.
pub async fn events_after(store: &dyn Store, seq: i64, limit: u32) -> Vec<Event> {
    let mut tx = store.read().await.expect("open a read transaction");
    let found = tx.events_after(seq, limit).await.expect("read the outbox");
    tx.commit().await.expect("end the read transaction");
    found
}

/// Every committed event, read through the outbox. On PostgreSQL the outbox shows an
/// event only once no older transaction of the server is still running (other tests may
/// hold one for a moment), so this waits up to 10 s until all committed events show.
pub async fn all_events(store: &dyn Store) -> Vec<Event> {
    let committed = row_count(store, Table::Events).await;
    let mut found = Vec::new();
    for _ in 0..200 {
        found = events_after(store, 0, 10_000).await;
        if found.len() as u64 >= committed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    found
}

/// The kinds of the events about `entity_id`, in order.
pub async fn event_kinds_of(store: &dyn Store, entity_id: &str) -> Vec<String> {
    all_events(store).await.into_iter().filter(|e| e.entity_id == entity_id).map(|e| e.kind).collect()
}

/// Asserts that `result` is a domain refusal of `kind` with `code`; returns it.
#[track_caller]
pub fn refusal<T: std::fmt::Debug>(result: Result<T>, kind: ErrorKind, code: &str) -> DomainError {
    match result {
        Err(StoreError::Domain(e)) => {
            assert_eq!((e.kind, e.code), (kind, code), "wrong refusal: {}", e.message);
            e
        }
        other => panic!("expected a {kind:?} refusal {code:?}, got {other:?}"),
    }
}

/// Asserts a 409 with `code` naming `state` as the current state.
#[track_caller]
pub fn conflict<T: std::fmt::Debug>(result: Result<T>, code: &str, state: &str) -> DomainError {
    let e = refusal(result, ErrorKind::Conflict, code);
    assert_eq!(e.current_state.as_deref(), Some(state), "{}", e.message);
    e
}

/// Asserts a 400 with `code` about `field`.
#[track_caller]
pub fn invalid<T: std::fmt::Debug>(result: Result<T>, code: &str, field: &str) -> DomainError {
    let e = refusal(result, ErrorKind::Invalid, code);
    assert_eq!(e.field, Some(field), "{}", e.message);
    e
}

/// Asserts a 403.
#[track_caller]
pub fn forbidden<T: std::fmt::Debug>(result: Result<T>) -> DomainError {
    refusal(result, ErrorKind::Forbidden, "forbidden")
}

type Cleanup = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Keeps a test database alive until the case ends, then cleans it up.
/// Dropped without [`Guard::finish`] (a failed case), the kept value's own `Drop` runs.
pub struct Guard(Option<Cleanup>);

impl Guard {
    /// Keeps `value` until the end and then drops it.
    pub fn keep<T: Send + 'static>(value: T) -> Self {
        Guard::with_cleanup(value, |value| async move { drop(value) })
    }

    /// Keeps `value` until the end and then hands it to `cleanup`.
    pub fn with_cleanup<T, F, Fut>(value: T, cleanup: F) -> Self
    where
        T: Send + 'static,
        F: FnOnce(T) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Guard(Some(Box::new(move || Box::pin(cleanup(value)))))
    }

    /// Runs the cleanup.
    pub async fn finish(mut self) {
        if let Some(cleanup) = self.0.take() {
            cleanup().await;
        }
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Guard")
    }
}

/// Records `amount_fen` paid into the float of the cash point `owner` (`OFFICE`,
/// `CASH-<bank>` or an operator code) by the card office, under a new key: the point can
/// then take that much cash.
pub async fn fund_float(store: &dyn Store, owner: &str, amount_fen: i64) -> sscard_app::onecard::floats::FloatView {
    let key = format!("fixture-{}", sscard_app::new_id());
    let cmd = sscard_app::onecard::floats::FundFloat::parse(owner, amount_fen, &key).expect("a valid funding");
    sscard_app::onecard::floats::fund_float(store, &ctx(clerk()), &cmd).await.expect("float funded")
}
