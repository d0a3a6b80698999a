//! Benefits paid to the card's bank account: every refusal reason, replays, a different body
//! under the same batch id, refused envelopes and lines leaving nothing, a second batch for
//! the same month, certification, the money following the replacement card, and clean books.

use super::fixtures::*;
use super::onecard::books_clean;
use sscard_app::Ctx;
use sscard_app::benefits::{self, NewPayer, NewProgram, submit_lines};
use sscard_app::cards::ActionInput;
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, AppStep, Channel, ReplacementReason};
use sscard_domain::benefits::{BatchStatus, Envelope, LineOutcome, RawLine};
use sscard_domain::card::{CancelReason, CardAction};
use sscard_domain::error::ErrorKind;
use sscard_domain::person::Person;
use sscard_store::Store;
use sscard_store::benefits::{BatchRow, LineRow};
use std::sync::Arc;

const PAYER: &str = "PF-XM";
const TAX: &str = "TAX-XM";

fn payer_ctx(code: &str) -> Ctx {
    ctx(Actor { name: format!("staff.{code}"), role: Role::Payer, person_id: None, bank_code: Some(code.into()) })
}

fn line(id: &str, p: &Person, amount: i64) -> RawLine {
    RawLine::paying(id, p, amount)
}

fn env(payer: &str, batch: &str, program: &str, period: &str, lines: &[RawLine]) -> Envelope {
    let total: i64 = lines.iter().map(|l| l.amount_fen.parse::<i64>().unwrap_or(0)).sum();
    Envelope::parse(payer, batch, program, period, lines.len() as u64, total).expect("envelope")
}

async fn setup(store: &dyn Store) {
    let admin = ctx(admin());
    for (code, name) in [(PAYER, "厦门社保基金"), (TAX, "厦门税务局")] {
        let p = NewPayer::parse(code, name, "350200").expect("payer");
        benefits::add_payer(store, &admin, &p).await.expect("add payer");
    }
    let pension = NewProgram::parse("PENSION", "基本养老金", "pension", true).expect("program");
    benefits::add_program(store, &admin, &pension).await.expect("add program");
    let refund = NewProgram::parse("TAXREF", "个税退税", "tax_refund", false).expect("program");
    benefits::add_program(store, &admin, &refund).await.expect("add program");
}

async fn lines_of(store: &dyn Store, c: &Ctx, payer: &str, batch: &str) -> Vec<LineRow> {
    benefits::pay::lines(store, c, payer, batch, None, 0, 1000).await.expect("lines")
}

fn outcomes(lines: &[LineRow]) -> Vec<(String, Option<LineOutcome>)> {
    lines.iter().map(|l| (l.line_id.clone(), l.outcome)).collect()
}

/// A replacement for a lost card, handed over but not yet activated.
async fn issued_replacement(store: &dyn Store, person: &Person) -> sscard_domain::card::Card {
    // Free here, so the case does not depend on how fees are taken at the desk.
    let mut desk = ctx(teller(BANK));
    desk.policy.replacement_fee_fen = 0;
    let input =
        app_input(AppKind::Replacement, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, Some(ReplacementReason::Lost));
    let app = apply(store, &desk, &person.id, input).await.application;
    step(store, &ctx(clerk()), &app.id, AppStep::Approve).await;
    card_of(&steps(store, &desk, &app.id, &[AppStep::Produce, AppStep::Ready, AppStep::Collect]).await)
}

pub async fn benefits_each_line_once_to_the_current_card(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    setup(store).await;
    let [p1, p2, p3, p4, p5] = [
        register(store, 1).await,
        register(store, 2).await,
        register(store, 3).await,
        register(store, 4).await,
        register(store, 5).await,
    ];
    let card1 = active_card(store, &p1).await;
    active_card(store, &p2).await;
    // p3 has no card; p5's card was cancelled at death.
    active_card(store, &p4).await;
    let card5 = active_card(store, &p5).await;
    let dead = ActionInput { cancel_reason: Some(CancelReason::Death), ..ActionInput::default() };
    act(store, &ctx(clerk()), card5.card_no.as_str(), CardAction::Cancel, dead).await;
    // p1 and p3 certified at the counter; p2 never.
    benefits::certify(store, &ctx(clerk()), &p1.id).await.expect("certify");
    benefits::certify(store, &ctx(clerk()), &p3.id).await.expect("certify");
    let stranger = register(store, 6).await;
    let unknown = RawLine { ssn: resident_number(99), name: "无名".into(), ..line("U", &stranger, 100) };
    let pf = payer_ctx(PAYER);
    let batch1 = vec![
        line("L1", &p1, 300_000),
        line("L2", &p2, 250_000),
        line("L3", &p3, 100_000),
        RawLine { name: "别人".into(), ..line("L4", &p4, 100_000) },
        line("L5", &p5, 100_000),
        unknown.clone(),
        line("L7", &p1, 1_000),
    ];
    let batch_no = first_batch_pays_each_line_once(store, &pf, &p1, &card1, &batch1).await;
    let me1 = ctx(holder(&p1));
    same_batch_again_pays_nothing(store, &pf, &batch1, batch_no).await;

    refused_whole(store, &pf, &p2, &p4).await;
    second_batch_and_other_payers(store, &pf, &me1, &p1, &p2).await;

    let new = money_follows_the_card(store, &pf, &me1, &p1, card1.card_no.as_str()).await;

    // The holder sees what they received; another holder does not.
    let mine = benefits::person_benefits(store, &me1, &p1.id, 50).await.expect("benefits");
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert_eq!(mine[0].payment.card_no, new.card_no.as_str());
    assert!(mine.iter().any(|b| b.program_kind == sscard_domain::benefits::ProgramKind::TaxRefund));
    forbidden(benefits::person_benefits(store, &ctx(holder(&p2)), &p1.id, 50).await);
    forbidden(benefits::person_benefits(store, &pf, &p1.id, 50).await);
    books_clean(store).await;
    let report = sscard_app::onecard::ledger::check(store).await.expect("check");
    assert_eq!(report.transfers, 5);
    assert_eq!(report.transfers_total_fen, 300_000 + 250_000 + 8_800 + 300_000 + 300_000);
}

/// The first batch: each line decided once (paid to p1's current card; overdue, no account,
/// other name, deceased, unknown, duplicate); a pension paid marks the person retired.
/// Answers the batch's number.
async fn first_batch_pays_each_line_once(
    store: &dyn Store,
    pf: &Ctx,
    p1: &Person,
    card1: &sscard_domain::card::Card,
    batch1: &[RawLine],
) -> i64 {
    let (pf, batch1) = (pf.clone(), batch1.to_vec());
    let s = submit_lines(store, &pf, env(PAYER, "2026-11-A", "pension", "2026-11", &batch1), &batch1)
        .await
        .expect("batch paid");
    assert_eq!(s.batch.status, BatchStatus::Done);
    assert_eq!(s.decided_lines, 7);
    let got = outcomes(&lines_of(store, &pf, PAYER, "2026-11-A").await);
    use LineOutcome::*;
    let want = [
        ("L1", Paid),
        ("L2", CertificationOverdue),
        ("L3", NoFinancialAccount),
        ("L4", NameMismatch),
        ("L5", Deceased),
        ("U", UnknownPerson),
        ("L7", Duplicate),
    ];
    assert_eq!(got, want.iter().map(|(l, o)| (l.to_string(), Some(*o))).collect::<Vec<_>>());
    let paid = s.outcomes.iter().find(|o| o.outcome == Paid).expect("paid total");
    assert_eq!((paid.lines, paid.total_fen), (1, 300_000));
    let paid_line = lines_of(store, &pf, PAYER, "2026-11-A").await.remove(0);
    assert_eq!(paid_line.card_no.as_deref(), Some(card1.card_no.as_str()));
    assert_eq!(paid_line.bank_code.as_deref(), Some(card1.bank_code.as_str()));
    assert_eq!(paid_line.account_no.as_deref(), card1.pan.as_ref().map(|p| p.as_str()));
    let e2e = paid_line.end_to_end_id.clone().expect("key");
    assert!(e2e.len() <= 35);
    // A pension paid marks the person retired.
    let me1 = ctx(holder(p1));
    let seen = sscard_app::persons::get(store, &me1, &p1.id).await.expect("person");
    assert!(seen.person.pension_recorded);
    books_clean(store).await;
    s.batch.batch_no
}

/// The same batch again answers the first result and pays nothing more; another body under
/// the same batch id is a conflict.
async fn same_batch_again_pays_nothing(store: &dyn Store, pf: &Ctx, batch1: &[RawLine], batch_no: i64) {
    let (pf, batch1) = (pf.clone(), batch1.to_vec());
    // The same batch again answers the first result and pays nothing more.
    let before = sscard_app::onecard::ledger::check(store).await.expect("check").transfers;
    let again = submit_lines(store, &pf, env(PAYER, "2026-11-A", "pension", "2026-11", &batch1), &batch1)
        .await
        .expect("replay");
    assert_eq!((again.batch.batch_no, again.decided_lines), (batch_no, 7));
    assert_eq!(sscard_app::onecard::ledger::check(store).await.expect("check").transfers, before);
    // Another body under the same batch id is a conflict.
    let mut other = batch1.clone();
    other[0].amount_fen = "300001".into();
    let e = refusal(
        submit_lines(store, &pf, env(PAYER, "2026-11-A", "pension", "2026-11", &other), &other).await,
        ErrorKind::Conflict,
        "batch_id_reused",
    );
    assert!(e.message.contains("2026-11-A"));
}

/// A second batch for the same month; another payer's own program; who may submit and see.
async fn second_batch_and_other_payers(store: &dyn Store, pf: &Ctx, me1: &Ctx, p1: &Person, p2: &Person) {
    use LineOutcome::{Duplicate, Paid};
    let (pf, me1) = (pf.clone(), me1.clone());
    // A second batch for the same month: p1 is a duplicate; p2, now certified, is paid.
    benefits::certify(store, &ctx(holder(p2)), &p2.id).await.expect("holder certifies");
    let batch2 = vec![line("N1", p1, 300_000), line("N2", p2, 250_000)];
    submit_lines(store, &pf, env(PAYER, "2026-11-B", "pension", "2026-11", &batch2), &batch2).await.expect("batch 2");
    let got = outcomes(&lines_of(store, &pf, PAYER, "2026-11-B").await);
    assert_eq!(got, vec![("N1".to_string(), Some(Duplicate)), ("N2".to_string(), Some(Paid))]);
    // Another payer pays the same person for its own program and month.
    let tax = payer_ctx(TAX);
    let refund = vec![line("T1", p1, 8_800)];
    submit_lines(store, &tax, env(TAX, "R1", "taxref", "2026-11", &refund), &refund).await.expect("refund");

    // Payers see only their own batches; tellers and holders submit nothing.
    assert_eq!(
        refusal(benefits::pay::summary(store, &tax, PAYER, "2026-11-A").await, ErrorKind::Forbidden, "forbidden").kind,
        ErrorKind::Forbidden
    );
    forbidden(submit_lines(store, &ctx(teller(BANK)), env(PAYER, "X", "pension", "2026-11", &batch2), &batch2).await);
    forbidden(submit_lines(store, &me1, env(PAYER, "X", "pension", "2026-11", &batch2), &batch2).await);
}

async fn money_follows_the_card(
    store: &dyn Store,
    pf: &Ctx,
    me1: &Ctx,
    p1: &sscard_domain::person::Person,
    old: &str,
) -> sscard_domain::card::Card {
    use sscard_domain::benefits::LineOutcome::Paid;
    // The money follows the card: a lost card's account until the replacement is activated.
    act(store, me1, old, CardAction::ReportLost, ActionInput::default()).await;
    let new = issued_replacement(store, p1).await;
    let dec = vec![line("D1", p1, 300_000)];
    submit_lines(store, pf, env(PAYER, "2026-12", "pension", "2026-12", &dec), &dec).await.expect("december");
    let l = lines_of(store, pf, PAYER, "2026-12").await.remove(0);
    assert_eq!((l.outcome, l.card_no.as_deref()), (Some(Paid), Some(old)));
    act(store, me1, new.card_no.as_str(), CardAction::Activate, with_pin("240617")).await;
    let jan = vec![line("J1", p1, 300_000)];
    submit_lines(store, pf, env(PAYER, "2027-01", "pension", "2027-01", &jan), &jan).await.expect("january");
    let l = lines_of(store, pf, PAYER, "2027-01").await.remove(0);
    assert_eq!((l.outcome, l.card_no.as_deref()), (Some(Paid), Some(new.card_no.as_str())));
    new
}

async fn refused_whole(
    store: &dyn Store,
    pf: &Ctx,
    p2: &sscard_domain::person::Person,
    p4: &sscard_domain::person::Person,
) {
    // Totals that do not match the envelope, or a malformed line: refused whole, nothing kept.
    let two = vec![line("M1", p2, 100), line("M2", p4, 200)];
    let wrong_total = Envelope::parse(PAYER, "2026-11-B", "pension", "2026-11", 2, 301).expect("envelope");
    let e = refusal(submit_lines(store, pf, wrong_total, &two).await, ErrorKind::Refused, "envelope_mismatch");
    assert_eq!(e.field, Some("declared_total_fen"));
    let wrong_count = Envelope::parse(PAYER, "2026-11-B", "pension", "2026-11", 3, 300).expect("envelope");
    let e = refusal(submit_lines(store, pf, wrong_count, &two).await, ErrorKind::Refused, "envelope_mismatch");
    assert_eq!(e.field, Some("declared_lines"));
    let bad = vec![line("M1", p2, 100), RawLine { amount_fen: "1.5".into(), ..line("M2", p4, 200) }];
    let e = invalid(
        submit_lines(store, pf, Envelope::parse(PAYER, "2026-11-B", "pension", "2026-11", 2, 300).unwrap(), &bad).await,
        "bad_line",
        "amount_fen",
    );
    assert!(e.message.starts_with("line 2:"), "{}", e.message);
    let twice = vec![line("M1", p2, 100), line("M1", p4, 200)];
    invalid(
        submit_lines(store, pf, env(PAYER, "2026-11-B", "pension", "2026-11", &twice), &twice).await,
        "bad_line",
        "line_id",
    );
    not_found_batch(store, pf, "2026-11-B").await;
}

async fn not_found_batch(store: &dyn Store, c: &Ctx, batch_id: &str) {
    not_found_batch_of(store, c, PAYER, batch_id).await;
}

/// A batch longer than one piece of the store's bulk reads (a hundred lines): every line is
/// decided in its order (the first line of a person paid, their later lines `duplicate`, an
/// unknown SSN refused wherever it stands), and the bank's file lists the paid lines of
/// different pieces in line order.
pub async fn benefits_long_batches_keep_line_order(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    setup(store).await;
    let (a, b, stranger) = (register(store, 61).await, register(store, 62).await, adult_input(63));
    active_card(store, &a).await;
    active_card(store, &b).await;
    let unknown = RawLine {
        line_id: String::new(),
        ssn: stranger.doc_number.clone(),
        name: stranger.name.clone(),
        amount_fen: "5".into(),
        file_line: None,
    };
    // Line 1 pays a, line 150 pays b; the others repeat them or name nobody.
    let lines: Vec<RawLine> = (1..=230)
        .map(|n| {
            let id = format!("L{n:03}");
            match n {
                150 => line(&id, &b, 150),
                n if n % 7 == 0 => RawLine { line_id: id, ..unknown.clone() },
                n if n < 150 => line(&id, &a, n),
                n => line(&id, &b, n),
            }
        })
        .collect();
    let tax = payer_ctx(TAX);
    submit_lines(store, &tax, env(TAX, "LONG-1", "TAXREF", "2026-11", &lines), &lines).await.expect("batch paid");
    let decided = lines_of(store, &tax, TAX, "LONG-1").await;
    assert_eq!(decided.len(), 230);
    for (n, l) in (1..=230).zip(&decided) {
        let want = match n {
            1 | 150 => LineOutcome::Paid,
            n if n % 7 == 0 => LineOutcome::UnknownPerson,
            _ => LineOutcome::Duplicate,
        };
        assert_eq!((l.line_id.as_str(), l.outcome), (format!("L{n:03}").as_str(), Some(want)));
    }
    summary_and_pages_by_outcome(store, &tax, &decided).await;
    let files = sscard_app::bank_files::bank_files(store, &tax, TAX, "LONG-1").await.expect("bank files");
    let csv = sscard_app::bank_files::write_bank_file(
        store,
        &files,
        BANK,
        sscard_app::bank_files::FileFormat::Csv,
        Vec::new(),
    )
    .await
    .expect("csv");
    let csv = String::from_utf8(csv).expect("utf-8");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let key = |l: &LineRow| l.end_to_end_id.clone().expect("a paid line has its key");
    assert!(rows[0].starts_with(&key(&decided[0])) && rows[1].starts_with(&key(&decided[149])), "{csv}");
    books_clean(store).await;
}

/// The summary's lines and fen per outcome add up to the lines' own, and the lines of one
/// outcome come back page by page in line order (paid along the key, refused through their
/// own index).
async fn summary_and_pages_by_outcome(store: &dyn Store, tax: &Ctx, decided: &[LineRow]) {
    let summary = benefits::pay::summary(store, tax, TAX, "LONG-1").await.expect("summary");
    assert_eq!(summary.decided_lines, 230);
    for total in &summary.outcomes {
        let of: Vec<&LineRow> = decided.iter().filter(|l| l.outcome == Some(total.outcome)).collect();
        let fen: i64 = of.iter().map(|l| l.amount_fen).sum();
        assert_eq!((total.lines, total.total_fen), (of.len() as i64, fen), "{:?}", total.outcome);
    }
    for outcome in [LineOutcome::Paid, LineOutcome::UnknownPerson, LineOutcome::Duplicate, LineOutcome::Deceased] {
        let (mut after, mut seen) = (0, Vec::new());
        loop {
            let page = benefits::pay::lines(store, tax, TAX, "LONG-1", Some(outcome), after, 10).await.expect("page");
            let Some(last) = page.last() else { break };
            after = last.seq;
            seen.extend(page.iter().map(|l| l.line_id.clone()));
        }
        let want: Vec<String> =
            decided.iter().filter(|l| l.outcome == Some(outcome)).map(|l| l.line_id.clone()).collect();
        assert_eq!(seen, want, "{outcome:?}");
    }
}

/// Line ids may hold any printable ASCII, quotes and backslashes included: they go through the
/// JSON of the store's bulk reads and come back as they were sent, and nothing else moves.
pub async fn benefits_line_ids_with_quotes_round_trip(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    setup(store).await;
    let (a, b) = (register(store, 64).await, register(store, 65).await);
    active_card(store, &a).await;
    active_card(store, &b).await;
    let ids = [r#"Q"1\"#, r"B\2", "C'3;--", r#"D"},"4"#];
    let lines = vec![line(ids[0], &a, 101), line(ids[1], &b, 102), line(ids[2], &a, 103), line(ids[3], &b, 104)];
    let tax = payer_ctx(TAX);
    submit_lines(store, &tax, env(TAX, "QUOTES-1", "TAXREF", "2026-11", &lines), &lines).await.expect("batch paid");
    let decided = lines_of(store, &tax, TAX, "QUOTES-1").await;
    let got: Vec<(String, Option<LineOutcome>)> = outcomes(&decided);
    let want: Vec<(String, Option<LineOutcome>)> = vec![
        (ids[0].into(), Some(LineOutcome::Paid)),
        (ids[1].into(), Some(LineOutcome::Paid)),
        (ids[2].into(), Some(LineOutcome::Duplicate)),
        (ids[3].into(), Some(LineOutcome::Duplicate)),
    ];
    assert_eq!(got, want);
    books_clean(store).await;
}

/// A batch of three chunks paid by two runners at once (a restart racing a resubmission): the
/// next chunk is read while the last one is written, so a person paid in the chunk being
/// written must count as paid in the next (line 5,001 repeats line 1's person across the first
/// boundary, line 10,001 repeats line 5,002's across the second, line 10,002 line 1's two chunks
/// later); every line is decided once, each person paid once, and the books stay clean.
pub async fn benefits_chunks_in_flight_pay_each_person_once(store: Arc<dyn Store>) {
    let store_ref = &*store;
    seed(store_ref).await;
    setup(store_ref).await;
    let (a, b, stranger) = (register(store_ref, 71).await, register(store_ref, 72).await, adult_input(73));
    active_card(store_ref, &a).await;
    active_card(store_ref, &b).await;
    let chunk = sscard_domain::benefits::PAY_CHUNK_LINES;
    let n = 2 * chunk + 3;
    let lines: Vec<RawLine> = (1..=n)
        .map(|k| {
            let id = format!("L{k:05}");
            match k {
                k if k == 1 || k == chunk + 1 || k == 2 * chunk + 2 => line(&id, &a, 100),
                k if k == chunk + 2 || k == 2 * chunk + 1 => line(&id, &b, 200),
                _ => RawLine {
                    line_id: id,
                    ssn: stranger.doc_number.clone(),
                    name: stranger.name.clone(),
                    amount_fen: "5".into(),
                    file_line: None,
                },
            }
        })
        .collect();
    let tax = payer_ctx(TAX);
    let mut intake =
        benefits::begin(store_ref, &tax, env(TAX, "RACE-1", "TAXREF", "2026-11", &lines)).await.expect("begin");
    for part in lines.chunks(sscard_domain::benefits::CHUNK_LINES) {
        intake.push(store_ref, part).await.expect("lines received");
    }
    let batch = intake.finish(store_ref, &tax).await.expect("batch received");
    let (mut quiet1, mut quiet2) = (|_: &BatchRow| {}, |_: &BatchRow| {});
    let (one, two) = tokio::join!(
        benefits::run_batch(store_ref, &tax, batch.batch_no, &mut quiet1),
        benefits::run_batch(store_ref, &tax, batch.batch_no, &mut quiet2)
    );
    for done in [one.expect("first runner"), two.expect("second runner")] {
        assert_eq!((done.status, done.done_through), (BatchStatus::Done, n as i64));
    }
    let s = benefits::summary(store_ref, &tax, TAX, "RACE-1").await.expect("summary");
    let count = |o: LineOutcome| s.outcomes.iter().find(|t| t.outcome == o).map(|t| (t.lines, t.total_fen));
    assert_eq!(count(LineOutcome::Paid), Some((2, 300)), "{s:?}");
    assert_eq!(count(LineOutcome::Duplicate), Some((3, 400)), "{s:?}");
    assert_eq!(count(LineOutcome::UnknownPerson), Some(((n - 5) as i64, 5 * (n as i64 - 5))), "{s:?}");
    assert_eq!(s.decided_lines, n as i64);
    let mut duplicates = Vec::new();
    let mut after = 0;
    loop {
        let page = benefits::pay::lines(store_ref, &tax, TAX, "RACE-1", Some(LineOutcome::Duplicate), after, 1000)
            .await
            .expect("duplicate lines");
        let Some(last) = page.last() else { break };
        after = last.seq;
        duplicates.extend(page.iter().map(|l| l.seq));
    }
    assert_eq!(duplicates, vec![chunk as i64 + 1, 2 * chunk as i64 + 1, 2 * chunk as i64 + 2]);
    books_clean(store_ref).await;
}

/// Bad lines found while an earlier chunk is still being staged (chunks of 1,000 are staged
/// while the next are read): a line id taken two chunks before, and a malformed amount after
/// two chunks were staged, each refuse the batch whole with the line's number, and nothing of
/// it stays; the same batch id then takes a good body.
pub async fn benefits_bad_lines_behind_staged_chunks_leave_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    setup(store).await;
    let stranger = adult_input(81);
    let n = 2 * sscard_domain::benefits::CHUNK_LINES + 503;
    let good: Vec<RawLine> = (1..=n)
        .map(|k| RawLine {
            line_id: format!("B{k:05}"),
            ssn: stranger.doc_number.clone(),
            name: stranger.name.clone(),
            amount_fen: "7".into(),
            file_line: None,
        })
        .collect();
    let tax = payer_ctx(TAX);
    let mut taken = good.clone();
    taken[2_499].line_id = "B00010".into();
    let e = invalid(
        submit_lines(store, &tax, env(TAX, "BAD-1", "TAXREF", "2026-11", &taken), &taken).await,
        "bad_line",
        "line_id",
    );
    assert!(e.message.starts_with("line 2500:"), "{}", e.message);
    not_found_batch_of(store, &tax, TAX, "BAD-1").await;
    let mut malformed = good.clone();
    malformed[n - 2].amount_fen = "7.5".into();
    let e = invalid(
        submit_lines(store, &tax, env(TAX, "BAD-1", "TAXREF", "2026-11", &good), &malformed).await,
        "bad_line",
        "amount_fen",
    );
    assert!(e.message.starts_with(&format!("line {}:", n - 1)), "{}", e.message);
    not_found_batch_of(store, &tax, TAX, "BAD-1").await;
    let s = submit_lines(store, &tax, env(TAX, "BAD-1", "TAXREF", "2026-11", &good), &good).await.expect("good body");
    assert_eq!((s.batch.received_lines, s.decided_lines), (n as i64, n as i64));
    books_clean(store).await;
}

async fn not_found_batch_of(store: &dyn Store, c: &Ctx, payer: &str, batch_id: &str) {
    let r = benefits::pay::summary(store, c, payer, batch_id).await;
    assert!(matches!(r, Err(sscard_store::StoreError::NotFound { .. })), "{r:?}");
}
