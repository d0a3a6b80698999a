//! The demo city's benefits (待遇发放): a pension fund and a tax office with a login each, a
//! pension program that needs the yearly certification and a tax refund, last month's pension
//! batch (paid lines, a line held for certification, an unknown person and a wrong name; the
//! bank's answer credits the paid lines but one, returned AC04 closed account) and a tax refund
//! batch (paid lines and a duplicate), all through the real use cases.

use sscard_app::Ctx;
use sscard_app::benefits::{self, NewPayer, NewProgram, submit_lines};
use sscard_domain::benefits::{Envelope, RawLine};
use sscard_domain::card::CardStatus;
use sscard_domain::clock::china_date;
use sscard_domain::person::Person;
use sscard_store::Store;

type Res<T> = Result<T, sscard_store::StoreError>;

/// The demo payers: (code, name, login).
pub const PAYERS: [(&str, &str, &str); 2] =
    [("PF-XM", "厦门市社会保险基金", "pf.xm"), ("TAX-XM", "国家税务总局厦门市税务局", "tax.xm")];

/// Adults with an active card, in the order the demo's holder logins were given (holder1 first).
async fn payees(store: &dyn Store) -> Res<Vec<Person>> {
    let mut tx = store.read().await?;
    let mut found = Vec::new();
    for p in tx.list_persons(&sscard_store::Page::first(300)).await? {
        if p.guardian.is_some() || found.len() >= 6 {
            continue;
        }
        if tx.cards_of_person(&p.id).await?.iter().any(|c| c.status == CardStatus::Active) {
            found.push(p);
        }
    }
    tx.commit().await?;
    Ok(found)
}

fn line(id: &str, p: &Person, amount: i64) -> RawLine {
    RawLine::paying(id, p, amount)
}

fn envelope(payer: &str, batch: &str, program: &str, period: &str, lines: &[RawLine]) -> Res<Envelope> {
    let total: i64 = lines.iter().filter_map(|l| l.amount_fen.parse::<i64>().ok()).sum();
    Ok(Envelope::parse(payer, batch, program, period, lines.len() as u64, total)?)
}

/// Seeds the payers, programs, logins and last month's batches.
pub async fn seed(store: &dyn Store, ctx: &Ctx, password: &str) -> Res<()> {
    let mut user_ctx = ctx.clone();
    user_ctx.hash_iterations = sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS;
    for (code, name, login) in PAYERS {
        benefits::add_payer(store, ctx, &NewPayer::parse(code, name, "350200")?).await?;
        benefits::add_payer_user(store, &user_ctx, login, password, code).await?;
    }
    benefits::add_program(store, ctx, &NewProgram::parse("PENSION", "城镇职工基本养老金", "pension", true)?).await?;
    benefits::add_program(store, ctx, &NewProgram::parse("TAXREF", "个人所得税退税", "tax_refund", false)?).await?;
    let people = payees(store).await?;
    if people.len() < 5 {
        return Ok(());
    }
    // Everyone but the fifth person certified this year; the fifth is held.
    for (i, p) in people.iter().enumerate() {
        if i != 4 {
            benefits::certify(store, ctx, &p.id).await?;
        }
    }
    // Last month's pension and tax refund.
    let today = china_date(ctx.now_ms);
    let (y, m) = (today.year(), u8::from(today.month()));
    let (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let period = format!("{y:04}-{m:02}");
    let mut pension: Vec<RawLine> = people
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, p)| line(&format!("P{}", i + 1), p, 320_000 + 1_000 * i as i64))
        .collect();
    // A number nobody in the city holds, and a line whose name is not the holder's.
    let region = sscard_domain::ids::RegionCode::parse("350203")?;
    let nobody = sscard_domain::document::make_resident_id(region, time::macros::date!(1931 - 02 - 03), 999);
    let stranger = RawLine { ssn: nobody, name: "林某某".into(), ..line("P6", &people[0], 280_000) };
    pension.push(stranger);
    pension.push(RawLine { name: "王错名".into(), ..line("P7", &people[5.min(people.len() - 1)], 300_000) });
    let env = envelope("PF-XM", &format!("PF-{period}"), "PENSION", &period, &pension)?;
    submit_lines(store, ctx, env, &pension).await?;
    bank_answers(store, ctx, &format!("PF-{period}")).await?;
    let refund = vec![line("T1", &people[0], 12_800), line("T2", &people[1], 6_450), line("T3", &people[0], 12_800)];
    let env = envelope("TAX-XM", &format!("TAX-{period}"), "TAXREF", &period, &refund)?;
    submit_lines(store, ctx, env, &refund).await?;
    Ok(())
}

/// The bank's answer to the pension batch: every paid line credited but the last, which is
/// returned (AC04, closed account), so its money goes back to the pension fund.
async fn bank_answers(store: &dyn Store, ctx: &Ctx, batch_id: &str) -> Res<()> {
    use sscard_domain::benefits::LineOutcome;
    let paid = benefits::pay::lines(store, ctx, "PF-XM", batch_id, Some(LineOutcome::Paid), 0, 10).await?;
    let mut csv = String::from("end_to_end_id,status,reason\n");
    for (i, l) in paid.iter().enumerate() {
        let Some(key) = &l.end_to_end_id else { continue };
        let last = i + 1 == paid.len() && i > 0;
        csv.push_str(&if last { format!("{key},RJCT,AC04\n") } else { format!("{key},ACSC,\n") });
    }
    let report = sscard_app::bank_files::report::read_report(csv.as_bytes())?;
    sscard_app::bank_files::report::apply_report(store, ctx, &report).await?;
    Ok(())
}
