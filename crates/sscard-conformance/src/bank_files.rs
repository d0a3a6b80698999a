//! The banks' side of a benefit batch: each bank's pain.001 lists its paid lines with their
//! keys; a pain.002 with accepted and returned lines credits some and returns others (the money
//! back to the payer, the line payable again by a later batch); the same report again changes
//! nothing; contradicting and unknown records are refused; reconciliation adds up per bank.

use super::fixtures::*;
use super::onecard::books_clean;
use sscard_app::Ctx;
use sscard_app::bank_files::report::{apply_report, read_report};
use sscard_app::bank_files::{self, FileFormat};
use sscard_app::benefits::{self, NewPayer, NewProgram, submit_lines};
use sscard_domain::access::{Actor, Role};
use sscard_domain::bank_report::ReportRefusal;
use sscard_domain::benefits::{Envelope, LineOutcome, RawLine};
use sscard_domain::error::ErrorKind;
use sscard_domain::person::Person;
use sscard_store::Store;
use std::sync::Arc;

const TAX: &str = "TAX-BK";

fn tax_staff() -> Ctx {
    ctx(Actor { name: "staff.tax".into(), role: Role::Payer, person_id: None, bank_code: Some(TAX.into()) })
}

fn raw(id: &str, p: &Person, amount: i64) -> RawLine {
    RawLine::paying(id, p, amount)
}

async fn pay(store: &dyn Store, batch: &str, lines: &[RawLine]) {
    let total: i64 = lines.iter().map(|l| l.amount_fen.parse::<i64>().unwrap_or(0)).sum();
    let env = Envelope::parse(TAX, batch, "TAXREF", "2026-10", lines.len() as u64, total).expect("envelope");
    submit_lines(store, &tax_staff(), env, lines).await.expect("batch paid");
}

fn pain002(records: &[(&str, &str, Option<&str>)]) -> String {
    let mut tx = String::new();
    for (id, sts, rsn) in records {
        let reason = rsn.map(|r| format!("<StsRsnInf><Rsn><Cd>{r}</Cd></Rsn></StsRsnInf>")).unwrap_or_default();
        tx.push_str(&format!(
            "<TxInfAndSts><OrgnlEndToEndId>{id}</OrgnlEndToEndId><TxSts>{sts}</TxSts>{reason}</TxInfAndSts>"
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\"><CstmrPmtStsRpt>\
         <GrpHdr><MsgId>RPT-1</MsgId><CreDtTm>2026-10-02T10:00:00</CreDtTm></GrpHdr>\
         <OrgnlGrpInfAndSts><OrgnlMsgId>X</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>\
         <OrgnlPmtInfAndSts><OrgnlPmtInfId>X</OrgnlPmtInfId>{tx}</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    )
}

async fn bank_balance(store: &dyn Store, person: &Person) -> i64 {
    let b = sscard_app::onecard::ledger::balances(store, &ctx(admin()), &person.id, 10).await.expect("balances");
    b.accounts.iter().filter(|a| a.id.starts_with("bank:")).map(|a| a.balance_fen).sum()
}

pub async fn bank_reports_return_and_reconcile(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let admin = ctx(admin());
    benefits::add_payer(store, &admin, &NewPayer::parse(TAX, "厦门税务局", "350200").expect("payer"))
        .await
        .expect("payer");
    let program = NewProgram::parse("TAXREF", "个税退税", "tax_refund", false).expect("program");
    benefits::add_program(store, &admin, &program).await.expect("program");
    let [p1, p2, p3] = [register(store, 1).await, register(store, 2).await, register(store, 3).await];
    for p in [&p1, &p2, &p3] {
        active_card(store, p).await;
    }
    let nobody = RawLine { ssn: resident_number(98), name: "无名".into(), ..raw("U", &p1, 7) };
    pay(store, "B1", &[raw("L1", &p1, 100_000), raw("L2", &p2, 200_000), raw("L3", &p3, 50_000), nobody]).await;
    let lines =
        benefits::pay::lines(store, &tax_staff(), TAX, "B1", Some(LineOutcome::Paid), 0, 100).await.expect("lines");
    let e2e: Vec<String> = lines.iter().map(|l| l.end_to_end_id.clone().expect("paid key")).collect();
    assert_eq!(e2e.len(), 3);

    bank_file_lists_the_paid_lines(store, &e2e).await;

    // Accepted and returned lines, reported twice.
    let report = read_report(
        pain002(&[(&e2e[0], "ACSC", None), (&e2e[1], "RJCT", Some("AC04")), (&e2e[2], "ACSC", None)]).as_bytes(),
    )
    .expect("report reads");
    assert_eq!(bank_balance(store, &p2).await, 200_000);
    let first = apply_report(store, &ctx(clerk()), &report).await.expect("report applies");
    assert_eq!((first.credited, first.returned, first.returned_fen, first.unchanged), (2, 1, 200_000, 0));
    assert_eq!(bank_balance(store, &p2).await, 0, "the returned money left the card's account");
    let again = apply_report(store, &ctx(clerk()), &report).await.expect("report again");
    assert_eq!((again.credited, again.returned, again.unchanged, again.refused), (0, 0, 3, 0));
    assert_eq!(bank_balance(store, &p2).await, 0, "returned once only");
    books_clean(store).await;

    // The returned line shows the bank's reason; contradicting and unknown records change nothing.
    let csv = format!("end_to_end_id,status,reason\n{},RJCT,AC06\n{},ACSC,\nSSB999L1,ACSC,\n", e2e[0], e2e[1]);
    let odd =
        apply_report(store, &ctx(clerk()), &read_report(csv.as_bytes()).expect("csv reads")).await.expect("applies");
    assert_eq!((odd.credited, odd.returned, odd.refused), (0, 0, 3));
    let reasons: Vec<ReportRefusal> = odd.refusals.iter().map(|r| r.reason).collect();
    assert_eq!(reasons, [ReportRefusal::Contradicts, ReportRefusal::Contradicts, ReportRefusal::UnknownLine]);
    assert_eq!(bank_balance(store, &p1).await, 100_000);

    // Only the card office records reports; a malformed file is refused whole.
    let e = apply_report(store, &tax_staff(), &report).await.expect_err("payer may not report");
    assert!(matches!(e, sscard_store::StoreError::Domain(ref d) if d.kind == ErrorKind::Forbidden), "{e:?}");
    let cut = pain002(&[(&e2e[0], "ACSC", None)]);
    assert!(read_report(&cut.as_bytes()[..cut.len() - 30]).is_err());

    reconciliation_adds_up(store).await;

    // The returned line is paid again by a later batch for the same month; the credited one is not.
    pay(store, "B2", &[raw("R2", &p2, 200_000), raw("R1", &p1, 100_000)]).await;
    let b2 = benefits::pay::lines(store, &tax_staff(), TAX, "B2", None, 0, 10).await.expect("lines");
    let got: Vec<_> = b2.iter().map(|l| (l.line_id.as_str(), l.outcome)).collect();
    assert_eq!(got, [("R2", Some(LineOutcome::Paid)), ("R1", Some(LineOutcome::Duplicate))]);
    assert_eq!(bank_balance(store, &p2).await, 200_000);
    books_clean(store).await;
}

async fn reconciliation_adds_up(store: &dyn Store) {
    // Reconciliation: per bank, declared = paid + refused + returned.
    let r = bank_files::reconciliation(store, &tax_staff(), TAX, "B1").await.expect("reconciliation");
    let bank = r.banks.iter().find(|b| b.bank_code.as_deref() == Some(BANK)).expect("the bank's row");
    assert_eq!((bank.declared.lines, bank.declared.fen), (3, 350_000));
    assert_eq!((bank.paid.lines, bank.paid.fen, bank.credited.lines), (2, 150_000, 2));
    assert_eq!((bank.returned.lines, bank.returned.fen, bank.refused.lines), (1, 200_000, 0));
    let none = r.banks.iter().find(|b| b.bank_code.is_none()).expect("refused lines have no bank");
    assert_eq!((none.refused.lines, none.refused.fen), (1, 7));
    assert!(bank.balanced && none.balanced && r.total.balanced, "{r:?}");
}

async fn bank_file_lists_the_paid_lines(store: &dyn Store, e2e: &[String]) {
    // The bank's file lists the three paid lines with their keys and the control sum.
    let files = bank_files::bank_files(store, &tax_staff(), TAX, "B1").await.expect("bank files");
    assert_eq!(files.banks.len(), 1);
    assert_eq!((files.banks[0].bank_code.as_str(), files.banks[0].lines, files.banks[0].total_fen), (BANK, 3, 350_000));
    let xml =
        bank_files::write_bank_file(store, &files, BANK, FileFormat::Pain001, Vec::new()).await.expect("pain.001");
    let xml = String::from_utf8(xml).expect("utf-8");
    assert!(xml.contains("<NbOfTxs>3</NbOfTxs>") && xml.contains("<CtrlSum>3500.00</CtrlSum>"), "{xml}");
    for id in e2e {
        assert!(xml.contains(&format!("<EndToEndId>{id}</EndToEndId>")), "{id} missing");
    }
    let csv = bank_files::write_bank_file(store, &files, BANK, FileFormat::Csv, Vec::new()).await.expect("csv");
    assert_eq!(String::from_utf8(csv).expect("utf-8").lines().count(), 4);
    let other = bank_files::write_bank_file(store, &files, "NOPE", FileFormat::Csv, Vec::new()).await;
    assert!(other.is_err(), "a bank the batch did not pay has no file");
}
