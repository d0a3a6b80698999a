use std::path::Path;
use std::process::Command;

use sscard_domain::money::Fen;
use sscard_iso20022::text::{AccountId, Id35, Name140};
use sscard_iso20022::{CreditTransfer, DebtorAgent, Pain001Header, Pain001Writer, WriteError};
use time::macros::{date, datetime};

pub fn header(transactions: u64, control_sum: i64) -> Pain001Header {
    Pain001Header {
        msg_id: Id35::new("SSC-B1-ICBC", "MsgId").unwrap(),
        created_at: datetime!(2026-03-01 09:30:00.123 +08:00),
        initiating_party: Name140::new("社会保障卡平台", "InitgPty").unwrap(),
        payment_info_id: Id35::new("SSC-B1-ICBC-1", "PmtInfId").unwrap(),
        execution_date: date!(2026 - 03 - 02),
        debtor_name: Name140::new("厦门市社会保险基金 & Co <pension>", "Dbtr").unwrap(),
        debtor_account: AccountId::new("PAYER-XMPF", "DbtrAcct").unwrap(),
        debtor_agent: DebtorAgent {
            name: Name140::new("中国工商银行", "DbtrAgt").unwrap(),
            code: Id35::new("ICBC", "DbtrAgt").unwrap(),
        },
        transactions,
        control_sum: Fen::new(control_sum),
    }
}

fn credit<'a>(id: &'a str, fen: i64, name: &'a str, account: &'a str) -> CreditTransfer<'a> {
    CreditTransfer { end_to_end_id: id, amount: Fen::new(fen), creditor_name: name, creditor_account: account }
}

fn write(lines: &[CreditTransfer<'_>], total: i64) -> Result<Vec<u8>, WriteError> {
    let mut w = Pain001Writer::start(Vec::new(), &header(lines.len() as u64, total))?;
    for l in lines {
        w.push(l)?;
    }
    w.finish()
}

/// Validate with xmllint against the committed official schema.
pub fn xmllint(doc: &[u8], xsd: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("sscard-iso-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.xml");
    std::fs::write(&file, doc).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xsd").join(xsd);
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian package libxml2-utils)");
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[test]
fn a_written_file_validates_against_the_official_schema() {
    let lines = [
        credit("L1", 123_456, "张三", "6217000000000000001"),
        credit("L2", 5, "O'Brien & <Sons>", "6217000000000000002"),
        credit("L3", 100, "李四", "6217000000000000003"),
    ];
    let doc = write(&lines, 123_561).unwrap();
    let (ok, stderr) = xmllint(&doc, "pain.001.001.09.xsd");
    assert!(ok, "xmllint refused the file: {stderr}\n{}", String::from_utf8_lossy(&doc));
    let text = String::from_utf8(doc).unwrap();
    assert!(text.contains("<NbOfTxs>3</NbOfTxs>"));
    assert!(text.contains("<CtrlSum>1235.61</CtrlSum>"));
    assert!(text.contains(r#"<InstdAmt Ccy="CNY">1234.56</InstdAmt>"#));
    assert!(text.contains(r#"<InstdAmt Ccy="CNY">0.05</InstdAmt>"#));
    assert!(text.contains("<EndToEndId>L2</EndToEndId>"));
    assert!(text.contains("<PmtMtd>TRF</PmtMtd>"));
    assert!(text.contains("<CreDtTm>2026-03-01T09:30:00+08:00</CreDtTm>"));
    assert!(text.contains("<Dt>2026-03-02</Dt>"));
    assert!(text.contains("O&apos;Brien &amp; &lt;Sons&gt;") || text.contains("O'Brien &amp; &lt;Sons&gt;"));
}

#[test]
fn the_schema_check_can_fail() {
    // The validation is real: a document without its control sum's partner NbOfTxs is refused.
    let doc = write(&[credit("L1", 100, "张三", "6217")], 100).unwrap();
    let broken = String::from_utf8(doc).unwrap().replace("<NbOfTxs>1</NbOfTxs>", "");
    let (ok, _) = xmllint(broken.as_bytes(), "pain.001.001.09.xsd");
    assert!(!ok, "a pain.001 without NbOfTxs passed the schema");
}

#[test]
fn totals_that_do_not_match_the_header_are_refused() {
    let lines = [credit("L1", 100, "张三", "6217"), credit("L2", 200, "李四", "6218")];
    match write(&lines, 301) {
        Err(WriteError::TotalsDiffer { declared_lines: 2, declared_fen: 301, written_lines: 2, written_fen: 300 }) => {}
        other => panic!("expected TotalsDiffer, got {other:?}"),
    }
    let mut w = Pain001Writer::start(Vec::new(), &header(1, 100)).unwrap();
    w.push(&lines[0]).unwrap();
    assert!(matches!(w.push(&lines[1]), Err(WriteError::TooMany { declared: 1 })));
    let w = Pain001Writer::start(Vec::new(), &header(2, 300)).unwrap();
    assert!(matches!(w.finish(), Err(WriteError::TotalsDiffer { written_lines: 0, .. })));
    assert!(matches!(Pain001Writer::start(Vec::new(), &header(0, 0)), Err(WriteError::Header(_))));
}

#[test]
fn fields_that_break_the_schema_are_refused_naming_the_transaction() {
    let mut w = Pain001Writer::start(Vec::new(), &header(3, 300)).unwrap();
    w.push(&credit("L1", 100, "张三", "6217")).unwrap();
    let long = "X".repeat(36);
    assert!(matches!(w.push(&credit(&long, 100, "李四", "6218")), Err(WriteError::Text { index: 2, .. })));
    assert!(matches!(w.push(&credit("L2", 0, "李四", "6218")), Err(WriteError::Amount { index: 2, .. })));
    assert!(matches!(w.push(&credit("L2", 100, "", "6218")), Err(WriteError::Text { index: 2, .. })));
    assert!(matches!(w.push(&credit("L2", 100, "李四", &"9".repeat(35))), Err(WriteError::Text { index: 2, .. })));
    assert!(matches!(w.push(&credit("L2", 100, "李\u{7}四", "6218")), Err(WriteError::Text { index: 2, .. })));
}

#[test]
fn a_large_file_streams_and_validates() {
    // 20,000 transactions written to a sink that only counts: nothing kept but counters.
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let n = 20_000u64;
    let total: i64 = (1..=n as i64).sum();
    let mut w = Pain001Writer::start(Count(0), &header(n, total)).unwrap();
    for i in 1..=n {
        let id = format!("L{i}");
        w.push(&credit(&id, i as i64, "王五", "6217000000000000009")).unwrap();
    }
    let out = w.finish().unwrap();
    assert!(out.0 > 20_000 * 100, "wrote {} bytes", out.0);
    // The same content in memory validates.
    let mut w = Pain001Writer::start(Vec::new(), &header(n, total)).unwrap();
    for i in 1..=n {
        let id = format!("L{i}");
        w.push(&credit(&id, i as i64, "王五", "6217000000000000009")).unwrap();
    }
    let (ok, stderr) = xmllint(&w.finish().unwrap(), "pain.001.001.09.xsd");
    assert!(ok, "{stderr}");
}
