use sscard_iso20022::{Pain002Reader, Position, ReasonCode, ReportError, ReportErrorKind, StatusRecord};

fn read(doc: &str) -> Result<Vec<StatusRecord>, ReportError> {
    Pain002Reader::new(doc.as_bytes()).collect()
}

const MIXED: &str = include_str!("../fixtures/pain002_mixed.xml");

#[test]
fn accepted_and_rejected_lines_are_read_with_their_reasons() {
    let mut reader = Pain002Reader::new(MIXED.as_bytes());
    let records: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(reader.message_id(), Some("BANK-RPT-0001"));
    assert_eq!(reader.original_message_id(), Some("SSC-B1-ICBC"));
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].end_to_end_id, "L1");
    assert_eq!(records[0].status.as_str(), "ACSC");
    assert_eq!(records[0].reason, None);
    assert_eq!(records[1].end_to_end_id, "L2");
    assert_eq!(records[1].status.as_str(), "RJCT");
    // The reason is the status reason's code, not the service level's Cd in OrgnlTxRef.
    assert_eq!(records[1].reason.as_ref().map(ToString::to_string).as_deref(), Some("AC04"));
    assert_eq!(records[2].end_to_end_id, "L&3");
    assert_eq!(records[2].reason, Some(ReasonCode::Proprietary("NAME DIFFERS".into())));
}

#[test]
fn a_prefixed_document_reads_the_same() {
    let doc = MIXED
        .replace("<Document xmlns=", "<p:Document xmlns:p=")
        .replace("</Document>", "</p:Document>")
        .replace("<CstmrPmtStsRpt>", "<p:CstmrPmtStsRpt xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">")
        .replace("</CstmrPmtStsRpt>", "</p:CstmrPmtStsRpt>");
    assert_eq!(read(&doc).unwrap().len(), 3);
}

fn kind_at(doc: &str) -> (Position, ReportErrorKind) {
    let err = read(doc).expect_err("the file should be refused");
    (err.position, err.kind)
}

#[test]
fn malformed_files_are_refused_with_their_position() {
    // Cut in the middle of a transaction: the error is at the end of the bytes.
    let cut = &MIXED[..MIXED.find("<TxSts>RJCT").unwrap()];
    let (pos, kind) = kind_at(cut);
    assert_eq!(kind, ReportErrorKind::EndsEarly);
    assert_eq!(pos, Position::Byte(cut.len() as u64));

    // Mismatched end tag, at its byte.
    let bad = MIXED.replacen("</TxSts>", "</TxStatus>", 1);
    let (pos, kind) = kind_at(&bad);
    assert!(matches!(kind, ReportErrorKind::Syntax(_)), "{kind:?}");
    let at = bad.find("</TxStatus>").unwrap() as u64;
    assert!(matches!(pos, Position::Byte(b) if b >= at && b <= at + 12), "{pos:?} vs {at}");

    // A transaction status without its status.
    let (_, kind) = kind_at(&MIXED.replacen("<TxSts>ACSC</TxSts>", "", 1));
    assert_eq!(kind, ReportErrorKind::Missing("TxSts"));
    let (_, kind) = kind_at(&MIXED.replacen("<OrgnlEndToEndId>L1</OrgnlEndToEndId>", "", 1));
    assert_eq!(kind, ReportErrorKind::Missing("OrgnlEndToEndId"));

    // Values that break their types.
    let (_, kind) = kind_at(&MIXED.replacen("<TxSts>ACSC</TxSts>", "<TxSts>ACCEPTED</TxSts>", 1));
    assert!(matches!(kind, ReportErrorKind::BadValue { field: "TxSts", .. }), "{kind:?}");
    let long = "E".repeat(36);
    let (_, kind) = kind_at(&MIXED.replacen(">L1<", &format!(">{long}<"), 1));
    assert!(matches!(kind, ReportErrorKind::BadValue { field: "OrgnlEndToEndId", .. }), "{kind:?}");
}

#[test]
fn other_documents_are_not_reports() {
    let pain001 = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn/></Document>";
    assert!(matches!(kind_at(pain001).1, ReportErrorKind::NotAReport(_)));
    assert!(matches!(kind_at("<html><body/></html>").1, ReportErrorKind::NotAReport(_)));
    assert!(matches!(kind_at("").1, ReportErrorKind::NotAReport(_)));
    assert!(matches!(kind_at("end_to_end_id,status,reason\nL1,ACSC,\n").1, ReportErrorKind::NotAReport(_)));
    let nons = MIXED.replace(" xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\"", "");
    assert!(matches!(kind_at(&nons).1, ReportErrorKind::NotAReport(_)));
}

#[test]
fn entities_are_not_expanded() {
    let bomb = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>{}",
        MIXED.split_once("?>").unwrap().1.replacen(">L1<", ">&b;<", 1)
    );
    assert!(matches!(kind_at(&bomb).1, ReportErrorKind::NotAReport(_)));
    let unknown = MIXED.replacen(">L1<", ">&b;<", 1);
    assert!(matches!(kind_at(&unknown).1, ReportErrorKind::Syntax(_)));
}

#[test]
fn too_deep_nesting_is_refused() {
    let open: String = (0..100).map(|_| "<X>").collect();
    let doc = MIXED.replacen("<TxSts>ACSC</TxSts>", &format!("<TxSts>ACSC</TxSts>{open}"), 1);
    assert!(matches!(kind_at(&doc).1, ReportErrorKind::TooDeep(_)));
}
