use sscard_domain::money::Fen;
use sscard_iso20022::{CreditCsvWriter, CreditTransfer, Position, ReasonCode, ReportErrorKind, StatusCsvReader};

#[test]
fn a_status_csv_reads_like_the_xml() {
    let text = "\u{feff}end_to_end_id,status,reason\r\nL1,ACSC,\r\n\"L,2\",RJCT,AC06\r\nL3,rjct,NAME DIFFERS\r\n";
    let records: Vec<_> = StatusCsvReader::new(text.as_bytes()).collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].status.as_str(), "ACSC");
    assert_eq!(records[0].reason, None);
    assert_eq!(records[1].end_to_end_id, "L,2");
    assert_eq!(records[1].reason.as_ref().map(ToString::to_string).as_deref(), Some("AC06"));
    assert_eq!(records[2].status.as_str(), "RJCT");
    assert_eq!(records[2].reason, Some(ReasonCode::Proprietary("NAME DIFFERS".into())));
}

#[test]
fn a_bad_status_csv_is_refused_with_its_line() {
    let err = StatusCsvReader::new("id,status,reason\nL1,ACSC,\n".as_bytes()).next().unwrap().unwrap_err();
    assert_eq!(err.position, Position::Line(1));
    assert!(matches!(err.kind, ReportErrorKind::BadHeader(_)));

    let text = "end_to_end_id,status,reason\nL1,ACSC,\nL2,ACCEPTED,\nL3,ACSC,\n";
    let results: Vec<_> = StatusCsvReader::new(text.as_bytes()).collect();
    assert_eq!(results.len(), 2, "the reader stops at the first error");
    let err = results[1].clone().unwrap_err();
    assert_eq!(err.position, Position::Line(3));
    assert!(matches!(err.kind, ReportErrorKind::BadValue { field: "status", .. }), "{:?}", err.kind);

    let text = "end_to_end_id,status,reason\nL1,ACSC\n";
    let err = StatusCsvReader::new(text.as_bytes()).next().unwrap().unwrap_err();
    assert_eq!(err.position, Position::Line(2));
    assert!(matches!(err.kind, ReportErrorKind::Syntax(_)), "{:?}", err.kind);

    let text = "end_to_end_id,status,reason\n,ACSC,\n";
    let err = StatusCsvReader::new(text.as_bytes()).next().unwrap().unwrap_err();
    assert!(matches!(err.kind, ReportErrorKind::BadValue { field: "end_to_end_id", .. }), "{:?}", err.kind);
}

#[test]
fn a_credit_csv_has_two_decimals_and_quotes_commas() {
    let mut w = CreditCsvWriter::start(Vec::new()).unwrap();
    let c = |id, fen, name| CreditTransfer {
        end_to_end_id: id,
        amount: Fen::new(fen),
        creditor_name: name,
        creditor_account: "6217000000000000001",
    };
    w.push(&c("L1", 123_456, "张三")).unwrap();
    w.push(&c("L2", 7, "Smith, John")).unwrap();
    assert!(w.push(&c("L3", 0, "李四")).is_err());
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        text,
        "end_to_end_id,creditor_name,creditor_account,amount,currency\n\
         L1,张三,6217000000000000001,1234.56,CNY\n\
         L2,\"Smith, John\",6217000000000000001,0.07,CNY\n"
    );
}
