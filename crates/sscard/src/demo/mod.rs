//! The demo city: region 350200 (Xiamen), 16 partner banks with branches, 1,000
//! synthetic persons with valid document numbers, and cards in every state, all made
//! through the same use cases as real traffic. Names and numbers are generated; no
//! real person's data is used. Seeding twice does nothing the second time.

mod benefits;
mod onecard;

use sscard_app::cards::ActionInput;
use sscard_app::{Ctx, admin, applications, cards, fields, import, jobs, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, AppStep, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::{CancelReason, CardAction, CardStatus, Pin, StopReason};
use sscard_domain::clock::{DAY_MS, china_date};
use sscard_domain::document::{DocType, Sex, make_resident_id};
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_domain::policy::Policy;
use sscard_store::{Bank, Branch, Store};
use time::Duration;

/// The password of every demo login (a demo database only).
pub const DEMO_PASSWORD: &str = "sscard-demo";
/// Persons the demo creates.
pub const DEMO_PERSONS: u32 = 1000;

const BANKS: [(&str, &str); 16] = [
    ("ICBC", "中国工商银行"),
    ("ABC", "中国农业银行"),
    ("BOC", "中国银行"),
    ("CCB", "中国建设银行"),
    ("BOCOM", "交通银行"),
    ("PSBC", "中国邮政储蓄银行"),
    ("CMB", "招商银行"),
    ("CIB", "兴业银行"),
    ("CITIC", "中信银行"),
    ("CEB", "中国光大银行"),
    ("CMBC", "中国民生银行"),
    ("SPDB", "浦发银行"),
    ("HXB", "华夏银行"),
    ("PAB", "平安银行"),
    ("XMBANK", "厦门银行"),
    ("XIB", "厦门国际银行"),
];
const DISTRICTS: [(&str, &str); 6] = [
    ("350203", "思明"),
    ("350205", "海沧"),
    ("350206", "湖里"),
    ("350211", "集美"),
    ("350212", "同安"),
    ("350213", "翔安"),
];
const SURNAMES: &str =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢";
const GIVEN: &str =
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建文玉兰志红辉斌婷晨宇浩然子涵欣怡梓轩佳琪一诺雨桐思远博文";

/// A demo login to print.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub note: String,
}

/// What seeding did.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub seeded: bool,
    pub persons: u32,
    pub logins: Vec<DemoLogin>,
    /// The demo's one-card terminals with their secrets (only when it seeded now).
    pub terminals: Vec<onecard::DemoTerminal>,
}

/// A small deterministic generator so every demo city is the same.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn name(rng: &mut Rng) -> String {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut n = rng.pick(&surnames).to_string();
    for _ in 0..(1 + rng.below(2)) {
        n.push(rng.pick(&given));
    }
    n
}

fn logins() -> Vec<DemoLogin> {
    let l = |u: &str, r: Role, n: &str| DemoLogin { username: u.to_string(), role: r, note: n.to_string() };
    vec![
        l("admin", Role::Admin, "platform administrator"),
        l("clerk", Role::Clerk, "card office clerk (review, jobs, stats)"),
        l("teller.icbc", Role::Teller, "bank teller, 中国工商银行, at branch ICBC-SM (it has a printer)"),
        l("teller.cmb", Role::Teller, "bank teller, 招商银行, at branch CMB-HC"),
        l("holder1", Role::Holder, "cardholder with an active card"),
        l("holder2", Role::Holder, "cardholder with an active card"),
        l("holder3", Role::Holder, "cardholder who has not applied yet"),
        l("pf.xm", Role::Payer, "pension fund 厦门市社会保险基金 (payer PF-XM)"),
        l("tax.xm", Role::Payer, "tax office 国家税务总局厦门市税务局 (payer TAX-XM)"),
    ]
}

type Res<T> = Result<T, sscard_store::StoreError>;

/// Seeds the demo city unless it is already there. `progress(done, total)` is called per person.
pub async fn seed(store: &dyn Store, now_ms: i64, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Res<DemoReport> {
    let mut tx = store.read().await?;
    let already = tx.get_bank("ICBC").await?.is_some();
    tx.commit().await?;
    if already {
        return Ok(DemoReport { seeded: false, persons: 0, logins: logins(), terminals: Vec::new() });
    }
    let policy = Policy::default();
    let mut ctx = Ctx::new(Actor::system("demo"), now_ms, policy);
    ctx.hash_iterations = 1000; // demo PINs only; real ones use the default
    seed_banks(store, &ctx).await?;
    fund_float(store, &ctx, sscard_domain::ledger::OFFICE_CASH_POINT).await?;
    let mut rng = Rng(0x5eed_cafe_2026);
    let mut adults: Vec<String> = Vec::new();
    for i in 0..DEMO_PERSONS {
        let person_id = seed_person(store, &ctx, &mut rng, i, &adults).await?;
        if let Some((id, adult)) = person_id {
            if adult {
                adults.push(id.clone());
            }
            if let Err(e) = seed_cards(store, &ctx, &mut rng, i, &id).await {
                tracing::debug!(error = %e, person = i, "demo card path stopped early");
            }
        }
        progress(i as u64 + 1, DEMO_PERSONS as u64);
    }
    // Cards produced long ago and never collected go dormant.
    jobs::run(store, &ctx, jobs::Job::DormantSweep, &|_| {}).await?;
    seed_users(store, &ctx).await?;
    let mut tx = store.read().await?;
    let active: Vec<String> = tx
        .cards_in_status(CardStatus::Active, i64::MAX, 100)
        .await?
        .into_iter()
        .map(|c| c.card_no.as_str().to_string())
        .collect();
    let mut stopped: Vec<String> = Vec::new();
    for status in [CardStatus::Lost, CardStatus::Suspended] {
        let found = tx.cards_in_status(status, i64::MAX, 10).await?;
        stopped.extend(found.into_iter().map(|c| c.card_no.as_str().to_string()));
    }
    tx.commit().await?;
    let terminals = onecard::seed(store, &ctx, &active, &stopped).await?;
    benefits::seed(store, &ctx, DEMO_PASSWORD).await?;
    Ok(DemoReport { seeded: true, persons: DEMO_PERSONS, logins: logins(), terminals })
}

async fn seed_banks(store: &dyn Store, ctx: &Ctx) -> Res<()> {
    for (i, (code, bank_name)) in BANKS.iter().enumerate() {
        let bank_code = BankCode::parse(code)?;
        let bin = Bin::parse(&format!("6235{:02}", i + 1))?;
        admin::add_bank(store, ctx, Bank { code: bank_code.clone(), name: bank_name.to_string(), bin }).await?;
        // The bank's desks take cash (replacement fees, top-ups) against the float they paid in.
        fund_float(store, ctx, &format!("CASH-{code}")).await?;
        for (j, (region, district)) in DISTRICTS.iter().take(3).enumerate() {
            let branch = Branch {
                bank_code: bank_code.clone(),
                code: BranchCode::parse(&format!("{code}-{}", ["SM", "HC", "HL"][j]))?,
                name: format!("{bank_name}{district}支行"),
                region: RegionCode::parse(region)?,
                has_printer: j == 0,
            };
            admin::add_branch(store, ctx, branch).await?;
        }
    }
    Ok(())
}

/// The cash float a demo point starts with: 10,000 yuan.
const DEMO_FLOAT_FEN: i64 = 1_000_000;

/// Records the demo point `owner`'s float as paid in (once: the key is the owner).
async fn fund_float(store: &dyn Store, ctx: &Ctx, owner: &str) -> Res<()> {
    let cmd = sscard_app::onecard::floats::FundFloat::parse(owner, DEMO_FLOAT_FEN, &format!("demo-float-{owner}"))?;
    sscard_app::onecard::floats::fund_float(store, ctx, &cmd).await?;
    Ok(())
}

/// Registers person `i`; returns its id and whether it is an adult.
async fn seed_person(
    store: &dyn Store,
    ctx: &Ctx,
    rng: &mut Rng,
    i: u32,
    adults: &[String],
) -> Res<Option<(String, bool)>> {
    let today = ctx.today();
    let minor = i % 10 == 9 && !adults.is_empty();
    let age_days = if minor { 365 + rng.below(14 * 365) } else { 18 * 365 + rng.below(62 * 365) } as i64;
    let birth = today - Duration::days(age_days);
    let (region, _) = rng.pick(&DISTRICTS);
    let region = RegionCode::parse(region)?;
    let doc_number = make_resident_id(region, birth, (i % 1000) as u16);
    let guardian_id = minor.then(|| adults[rng.below(adults.len() as u64) as usize].clone());
    let input = RegistrationInput {
        doc_type: DocType::ResidentId,
        doc_number,
        name: name(rng),
        sex: None::<Sex>,
        birth_date: None,
        region,
        relationship_proof: guardian_id.as_ref().map(|_| format!("HK{:010}", rng.below(10_000_000_000))),
        guardian_id,
    };
    match persons::register(store, ctx, input).await {
        Ok(p) => Ok(Some((p.id, !minor))),
        Err(sscard_store::StoreError::Domain(e)) => {
            tracing::debug!(error = %e, "demo person skipped");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn at(ctx: &Ctx, days_ago: i64) -> Ctx {
    let mut c = ctx.clone();
    c.now_ms = ctx.now_ms - days_ago * DAY_MS;
    c
}

async fn step(store: &dyn Store, ctx: &Ctx, app_id: &str, steps: &[AppStep]) -> Res<Option<String>> {
    let mut card = None;
    for s in steps {
        // A rejection says why; the demo's reason is one an office gives.
        let reason = (*s == AppStep::Reject)
            .then(|| sscard_domain::handover::StaffReason::parse("照片不符合要求，请重新提交", "reason"))
            .transpose()?;
        let input = applications::StepInput { reason, ..Default::default() };
        let view = applications::step_with(store, ctx, app_id, *s, &input).await?;
        card = view.application.card_no.clone();
    }
    Ok(card)
}

async fn act(store: &dyn Store, ctx: &Ctx, card_no: &str, action: CardAction, input: ActionInput) -> Res<()> {
    let card_no = fields::card_no(card_no, "card_no")?;
    cards::act(store, ctx, &card_no, action, input).await.map(|_| ())
}

/// The bank of person `i`, with its branch that has a card printer and one that has not.
struct DemoBank {
    code: &'static str,
    bank_code: BankCode,
    printer: BranchCode,
    plain: BranchCode,
}

impl DemoBank {
    fn of(i: u32) -> Res<DemoBank> {
        let code = BANKS[(i as usize) % BANKS.len()].0;
        Ok(DemoBank {
            code,
            bank_code: BankCode::parse(code)?,
            printer: BranchCode::parse(&format!("{code}-SM"))?,
            plain: BranchCode::parse(&format!("{code}-HL"))?,
        })
    }
}

/// Takes person `i` down one of the card paths, so that every state appears.
async fn seed_cards(store: &dyn Store, ctx: &Ctx, rng: &mut Rng, i: u32, person_id: &str) -> Res<()> {
    let bank = DemoBank::of(i)?;
    match i % 20 {
        0 => Ok(()), // not applied yet
        1 => seed_upgrade(store, ctx, &bank, i, person_id).await,
        path => {
            let Some(card_no) = seed_first_card(store, ctx, rng, &bank, i, person_id).await? else { return Ok(()) };
            if path == 8 {
                return Ok(()); // issued, not yet activated
            }
            let pin = format!("{:06}", 280_000 + rng.below(500_000));
            let activate = ActionInput { pin: Some(Pin::parse(&pin)?), ..Default::default() };
            act(store, &at(ctx, 20), &card_no, CardAction::Activate, activate).await?;
            seed_card_event(store, ctx, &bank, path, &card_no, person_id).await
        }
    }
}

/// An older-generation card, then (mostly) the upgrade to the third generation, activated.
async fn seed_upgrade(store: &dyn Store, ctx: &Ctx, bank: &DemoBank, i: u32, person_id: &str) -> Res<()> {
    let p = {
        let mut tx = store.read().await?;
        let p = tx.get_person(person_id, false).await?;
        tx.commit().await?;
        p
    };
    let Some(p) = p else { return Ok(()) };
    let issued = china_date(ctx.now_ms) - Duration::days(3000);
    let row = import::ImportRow {
        person: RegistrationInput {
            doc_type: p.doc_type,
            doc_number: p.doc_number.clone(),
            name: p.name.as_str().to_string(),
            sex: Some(p.sex),
            birth_date: Some(p.birth_date),
            region: p.region,
            guardian_id: None,
            relationship_proof: None,
        },
        card_no: format!("Z{:08}", 10_000_000 + i),
        bank_code: bank.code.to_string(),
        issued_on: issued,
        expires_on: issued + Duration::days(3650 + 400),
    };
    import::import_row(store, ctx, &row).await?;
    if i % 40 == 1 {
        return Ok(()); // still on the second generation
    }
    let input = ApplicationInput {
        kind: AppKind::Upgrade,
        channel: Channel::BranchInstant,
        bank_code: bank.bank_code.clone(),
        branch_code: Some(bank.printer.clone()),
        mail_address: None,
        reason: None,
    };
    let view = applications::apply(store, ctx, person_id, input).await?;
    if let Some(card) = view.application.card_no {
        let activate = ActionInput { pin: Some(Pin::parse("739164")?), ..Default::default() };
        act(store, ctx, &card, CardAction::Activate, activate).await?;
    }
    Ok(())
}

/// A first application through one of the channels, taken as far as path `i % 20` says:
/// the card number once the card is handed over.
async fn seed_first_card(
    store: &dyn Store,
    ctx: &Ctx,
    rng: &mut Rng,
    bank: &DemoBank,
    i: u32,
    person_id: &str,
) -> Res<Option<String>> {
    let path = i % 20;
    let channel = [
        Channel::Branch,
        Channel::BranchInstant,
        Channel::Online,
        Channel::EmployerBatch,
        Channel::Kiosk,
        Channel::DoorToDoor,
    ][(i as usize / 20) % 6];
    let days_ago = if path == 2 { 240 } else { 30 + rng.below(60) as i64 };
    let mailed = matches!(channel, Channel::Online | Channel::DoorToDoor);
    let input = ApplicationInput {
        kind: AppKind::First,
        channel,
        bank_code: bank.bank_code.clone(),
        branch_code: match channel {
            Channel::Online | Channel::DoorToDoor => None,
            Channel::BranchInstant | Channel::Kiosk => Some(bank.printer.clone()),
            _ => Some(bank.plain.clone()),
        },
        mail_address: mailed.then(|| format!("福建省厦门市思明区演示路{}号", i)),
        reason: None,
    };
    let view = applications::apply(store, &at(ctx, days_ago), person_id, input).await?;
    match view.application.card_no {
        Some(card) => Ok(Some(card)),
        None => walk_application(store, ctx, path, days_ago, mailed, &view.application.id).await,
    }
}

/// Takes an application that did not end at once through the steps of `path`: the card
/// number when it ends handed over.
async fn walk_application(
    store: &dyn Store,
    ctx: &Ctx,
    path: u32,
    days_ago: i64,
    mailed: bool,
    app_id: &str,
) -> Res<Option<String>> {
    // (days after applying, the steps, whether they end with the card handed over)
    let (days_later, steps, handed_over): (i64, &[AppStep], bool) = match path {
        3 => return Ok(None), // submitted, waiting for review
        4 => (1, &[AppStep::Reject], false),
        5 => (1, &[AppStep::Approve, AppStep::Withdraw], false),
        6 => (1, &[AppStep::Approve, AppStep::Produce], false),
        // Made and left uncollected (path 2 long ago: the dormant sweep will find it).
        2 | 7 if mailed => (2, &[AppStep::Approve, AppStep::Produce, AppStep::Ship], false),
        2 | 7 => (2, &[AppStep::Approve, AppStep::Produce, AppStep::Ready], false),
        _ if mailed => (3, &[AppStep::Approve, AppStep::Produce, AppStep::Ship, AppStep::Deliver], true),
        _ => (3, &[AppStep::Approve, AppStep::Produce, AppStep::Ready, AppStep::Collect], true),
    };
    let card = step(store, &at(ctx, days_ago - days_later), app_id, steps).await?;
    Ok(card.filter(|_| handed_over))
}

/// What happens to an activated card on path 9 to 12: a temporary loss, a loss with its
/// replacement application, a cross-region stop, a cancellation; the others stay active.
async fn seed_card_event(
    store: &dyn Store,
    ctx: &Ctx,
    bank: &DemoBank,
    path: u32,
    card_no: &str,
    person_id: &str,
) -> Res<()> {
    let none = ActionInput::default;
    match path {
        9 => act(store, &at(ctx, 3), card_no, CardAction::Suspend, none()).await,
        10 => {
            act(store, &at(ctx, 10), card_no, CardAction::ReportLost, none()).await?;
            let input = ApplicationInput {
                kind: AppKind::Replacement,
                channel: Channel::Branch,
                bank_code: bank.bank_code.clone(),
                branch_code: Some(bank.plain.clone()),
                mail_address: None,
                reason: Some(ReplacementReason::Lost),
            };
            applications::apply(store, &at(ctx, 9), person_id, input).await.map(|_| ())
        }
        11 => {
            let stop = StopReason::parse("异地停用: moved to 350100")?;
            let stop = ActionInput { stop_reason: Some(stop), ..Default::default() };
            act(store, &at(ctx, 5), card_no, CardAction::Stop, stop).await
        }
        12 => {
            let cancel = ActionInput { cancel_reason: Some(CancelReason::Emigration), ..Default::default() };
            act(store, &at(ctx, 5), card_no, CardAction::Cancel, cancel).await
        }
        _ => Ok(()),
    }
}

async fn seed_users(store: &dyn Store, ctx: &Ctx) -> Res<()> {
    let mut user_ctx = ctx.clone();
    user_ctx.hash_iterations = sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS;
    // A teller works at a branch of their bank: (bank, branch).
    let add = |u: &'static str, r: Role, p: Option<String>, b: Option<(&str, &str)>| {
        let ctx = user_ctx.clone();
        let bank = b.map(|(b, _)| fields::bank_code(b, "bank_code")).transpose();
        let branch = b.map(|(_, x)| fields::branch_code(x, "branch_code")).transpose();
        async move {
            let links = admin::UserLinks { person_id: p, bank_code: bank?, branch_code: branch? };
            admin::add_user_with(store, &ctx, u, DEMO_PASSWORD, r, links).await.map(|_| ())
        }
    };
    add("admin", Role::Admin, None, None).await?;
    add("clerk", Role::Clerk, None, None).await?;
    add("teller.icbc", Role::Teller, None, Some(("ICBC", "ICBC-SM"))).await?;
    add("teller.cmb", Role::Teller, None, Some(("CMB", "CMB-HC"))).await?;
    // Holders: two adults with an active card, one registered adult who has not applied.
    let (mut active, mut fresh) = (Vec::new(), None);
    let mut tx = store.read().await?;
    for p in tx.list_persons(&sscard_store::Page::first(300)).await? {
        if p.guardian.is_some() {
            continue;
        }
        let cards = tx.cards_of_person(&p.id).await?;
        if active.len() < 2 && cards.iter().any(|c| c.status == sscard_domain::card::CardStatus::Active) {
            active.push(p.id);
        } else if fresh.is_none() && cards.is_empty() && tx.applications_of_person(&p.id).await?.is_empty() {
            fresh = Some(p.id);
        }
    }
    tx.commit().await?;
    for (u, id) in ["holder1", "holder2"].into_iter().zip(active) {
        add(u, Role::Holder, Some(id), None).await?;
    }
    if let Some(id) = fresh {
        add("holder3", Role::Holder, Some(id), None).await?;
    }
    Ok(())
}
