//! Property tests of the parsers the fuzz targets in `fuzz/` also run (docs/FUZZING.md),
//! here in the normal suite with modest case counts: no input makes them panic, what parses
//! once parses again to the same value, and a valid number with one digit changed is refused.

use proptest::prelude::*;
use sscard_domain::document::{DocType, Document, Ssn, make_resident_id};
use sscard_domain::ids::{Bin, CardIdCode, CardNo, Pan, RegionCode};
use time::{Date, macros::date};

const TODAY: Date = date!(2025 - 06 - 01);

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

fn doc_type() -> impl Strategy<Value = DocType> {
    proptest::sample::select(&DocType::ALL[..])
}

/// Strings near the shapes the parsers accept: digits, X, letters, spaces and some
/// multi-byte characters, so that length checks by bytes and by characters both matter.
fn near_number() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9XxAHMTE ·é中\u{200b}]{0,24}").expect("a valid regex")
}

/// Every other digit at `pos`.
fn with_digit_changed(number: &str, pos: usize) -> Vec<String> {
    (b'0'..=b'9')
        .filter(|&c| number.as_bytes()[pos] != c)
        .map(|c| {
            let mut b = number.as_bytes().to_vec();
            b[pos] = c;
            String::from_utf8(b).expect("ascii")
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_string_makes_a_document_parser_panic(t in doc_type(), s in "\\PC{0,40}", near in near_number()) {
        for input in [&s, &near] {
            if let Ok(d) = Document::parse(t, input, TODAY) {
                // The stored form is canonical: it parses again to the same document.
                let again = Document::parse(t, d.number(), TODAY).expect("parses again");
                prop_assert_eq!(again.number(), d.number());
                prop_assert_eq!(again.birth_date(), d.birth_date());
                prop_assert_eq!(again.region(), d.region());
                if let Some(ssn) = d.ssn() {
                    prop_assert_eq!(Ssn::parse(ssn.as_str()), Ok(ssn.clone()));
                }
            }
            if let Ok(ssn) = Ssn::parse(input) {
                prop_assert_eq!(Ssn::parse(ssn.as_str()), Ok(ssn.clone()));
            }
            let _ = DocType::parse(input);
            let _ = RegionCode::parse(input);
            let _ = CardIdCode::parse(input);
        }
    }

    #[test]
    fn card_numbers_roundtrip_and_garbage_is_refused(serial in 0u64..2_600_000_000, s in "\\PC{0,20}") {
        let no = CardNo::from_serial(serial);
        prop_assert_eq!(CardNo::parse(no.as_str()), Ok(no.clone()));
        prop_assert_eq!(CardNo::parse(&format!("  {}\n", no.as_str().to_ascii_lowercase())), Ok(no.clone()));
        if let Ok(parsed) = CardNo::parse(&s) {
            prop_assert_eq!(parsed.as_str().len(), 9);
            prop_assert_eq!(CardNo::parse(parsed.as_str()), Ok(parsed.clone()));
        }
    }

    #[test]
    fn issued_pans_roundtrip_and_any_digit_change_is_refused(
        bin in "[1-9][0-9]{5,7}",
        serial in any::<u64>(),
        pos in 0usize..19,
    ) {
        let pan = Pan::issue(&Bin::parse(&bin).expect("6-8 digits"), serial);
        prop_assert_eq!(Pan::parse(pan.as_str()), Ok(pan.clone()));
        prop_assert!(pan.as_str().starts_with(&bin));
        for changed in with_digit_changed(pan.as_str(), pos) {
            prop_assert!(Pan::parse(&changed).is_err(), "{} accepted", changed);
        }
    }

    #[test]
    fn a_resident_id_with_one_digit_changed_is_refused_by_every_number_type(
        province in proptest::sample::select(&[11u32, 31, 35, 44, 65][..]),
        rest in 0u32..10_000,
        day in 0i32..40_000,
        seq in 0u16..1000,
        pos in 0usize..17,
    ) {
        let region = RegionCode::from_code(province * 10_000 + rest).expect("valid province");
        let birth = Date::from_julian_day(date!(1920 - 01 - 01).to_julian_day() + day).expect("in range");
        prop_assume!(birth <= TODAY);
        let n = make_resident_id(region, birth, seq);
        prop_assert!(Document::parse(DocType::ResidentId, &n, TODAY).is_ok());
        for changed in with_digit_changed(&n, pos) {
            for t in [DocType::ResidentId, DocType::ResidencePermit, DocType::ForeignPermanentId] {
                prop_assert!(Document::parse(t, &changed, TODAY).is_err(), "{} accepted as {}", changed, t);
            }
        }
    }
}
