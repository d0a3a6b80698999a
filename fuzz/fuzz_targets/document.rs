//! Document numbers, SSNs and the card identifiers parsed at the edge: nothing panics, and
//! whatever parses once parses again to the same value (the stored form is canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sscard_domain::document::{DocType, Document, Sex, Ssn, mask_id};
use sscard_domain::ids::{Bin, CardIdCode, CardNo, Pan, RegionCode};
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the document type; the rest is the number as typed.
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let doc_type = DocType::ALL[usize::from(pick) % DocType::ALL.len()];
    let today = date!(2026 - 06 - 01);
    if let Ok(doc) = Document::parse(doc_type, text, today) {
        let again = Document::parse(doc_type, doc.number(), today).expect("a stored number parses again");
        assert_eq!(again.number(), doc.number());
        assert_eq!(again.birth_date(), doc.birth_date());
        assert_eq!(again.sex(), doc.sex());
        assert_eq!(again.region(), doc.region());
        if let Some(ssn) = doc.ssn() {
            let parsed = Ssn::parse(ssn.as_str()).expect("the SSN of a valid document is a valid SSN");
            assert_eq!(parsed, ssn);
        }
        assert_ne!(doc.masked(), doc.number(), "the masked form hides the number");
    }
    if let Ok(ssn) = Ssn::parse(text) {
        assert_eq!(Ssn::parse(ssn.as_str()).as_ref(), Ok(&ssn));
    }
    let _ = mask_id(text);
    let _ = DocType::parse(text);
    let _ = Sex::parse(text);
    let _ = RegionCode::parse(text);
    let _ = Bin::parse(text);
    if let Ok(no) = CardNo::parse(text) {
        assert_eq!(CardNo::parse(no.as_str()).as_ref(), Ok(&no));
    }
    if let Ok(pan) = Pan::parse(text) {
        assert_eq!(Pan::parse(pan.as_str()).as_ref(), Ok(&pan));
        let _ = pan.masked();
    }
    if let Ok(code) = CardIdCode::parse(text) {
        let _ = code.region();
    }
});
