//! Property tests: generated valid numbers parse with the facts they were
//! built from, and any single-character change is refused.

use proptest::prelude::*;
use sscard_domain::document::{DocType, Document, Sex, Ssn, make_resident_id, mask_id};
use sscard_domain::ids::RegionCode;
use time::{Date, macros::date};

const TODAY: Date = date!(2025 - 06 - 01);

const MAINLAND_PROVINCES: [u32; 31] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65,
];

fn mainland_region() -> impl Strategy<Value = RegionCode> {
    (proptest::sample::select(&MAINLAND_PROVINCES[..]), 0u32..10_000)
        .prop_map(|(p, rest)| RegionCode::from_code(p * 10_000 + rest).expect("valid province"))
}

fn permit_region() -> impl Strategy<Value = RegionCode> {
    proptest::sample::select(&[810_000u32, 820_000, 830_000][..]).prop_map(|c| RegionCode::from_code(c).expect("valid"))
}

fn birth_date() -> impl Strategy<Value = Date> {
    let first = date!(1900 - 01 - 01).to_julian_day();
    let last = TODAY.to_julian_day();
    (first..=last).prop_map(|d| Date::from_julian_day(d).expect("in range"))
}

/// Every other character that could stand at `pos` of an 18-character number.
fn replacements(number: &str, pos: usize) -> Vec<String> {
    let mut out = Vec::new();
    let candidates: &[u8] = if pos == 17 { b"0123456789X" } else { b"0123456789" };
    for &c in candidates {
        if number.as_bytes()[pos] != c {
            let mut b = number.as_bytes().to_vec();
            b[pos] = c;
            out.push(String::from_utf8(b).expect("ascii"));
        }
    }
    out
}

proptest! {
    #[test]
    fn generated_resident_ids_parse_with_their_facts(
        region in mainland_region(),
        birth in birth_date(),
        seq in 0u16..1000,
    ) {
        let n = make_resident_id(region, birth, seq);
        prop_assert_eq!(n.len(), 18);
        let d = Document::parse(DocType::ResidentId, &n, TODAY).expect("valid");
        prop_assert_eq!(d.number(), n.as_str());
        prop_assert_eq!(d.birth_date(), Some(birth));
        let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
        prop_assert_eq!(d.sex(), Some(sex));
        prop_assert_eq!(d.region(), Some(region));
        prop_assert_eq!(d.ssn(), Some(Ssn::parse(&n).expect("valid ssn")));
        // The lowercase form is accepted too.
        let lower = Document::parse(DocType::ResidentId, &n.to_ascii_lowercase(), TODAY).expect("valid");
        prop_assert_eq!(lower.number(), n.as_str());
        // Not a residence permit.
        prop_assert!(Document::parse(DocType::ResidencePermit, &n, TODAY).is_err());
    }

    #[test]
    fn any_single_change_of_a_resident_id_is_refused(
        region in mainland_region(),
        birth in birth_date(),
        seq in 0u16..1000,
        pos in 0usize..18,
    ) {
        let n = make_resident_id(region, birth, seq);
        for changed in replacements(&n, pos) {
            prop_assert!(
                Document::parse(DocType::ResidentId, &changed, TODAY).is_err(),
                "{} accepted (from {})", changed, n
            );
            prop_assert!(Ssn::parse(&changed).is_err(), "{} accepted as SSN", changed);
        }
    }

    #[test]
    fn generated_residence_permits_parse(
        region in permit_region(),
        birth in birth_date(),
        seq in 0u16..1000,
        pos in 0usize..18,
    ) {
        let n = make_resident_id(region, birth, seq);
        let d = Document::parse(DocType::ResidencePermit, &n, TODAY).expect("valid");
        prop_assert_eq!(d.birth_date(), Some(birth));
        prop_assert_eq!(d.region(), Some(region));
        prop_assert!(Document::parse(DocType::ResidentId, &n, TODAY).is_err());
        for changed in replacements(&n, pos) {
            prop_assert!(Document::parse(DocType::ResidencePermit, &changed, TODAY).is_err());
        }
    }

    #[test]
    fn assigned_ssns_roundtrip_and_detect_changes(
        region in mainland_region(),
        serial in any::<u64>(),
        pos in 1usize..18,
    ) {
        let s = Ssn::assigned(region, serial);
        prop_assert_eq!(s.as_str().len(), 18);
        prop_assert!(s.as_str().starts_with('A'));
        prop_assert_eq!(&s.as_str()[1..7], region.to_string());
        prop_assert_eq!(&Ssn::parse(s.as_str()).expect("valid"), &s);
        for changed in replacements(s.as_str(), pos) {
            prop_assert!(Ssn::parse(&changed).is_err(), "{} accepted", changed);
        }
    }

    #[test]
    fn mask_keeps_length_and_ends(s in "\\PC{0,40}") {
        let m = mask_id(&s);
        let chars: Vec<char> = s.chars().collect();
        let masked: Vec<char> = m.chars().collect();
        prop_assert_eq!(masked.len(), chars.len());
        let keep = match chars.len() { 0..=2 => 0, 3..=8 => 1, _ => 4 };
        prop_assert_eq!(&masked[..keep], &chars[..keep]);
        prop_assert_eq!(&masked[chars.len() - keep..], &chars[chars.len() - keep..]);
        prop_assert!(masked[keep..chars.len() - keep].iter().all(|&c| c == '*'));
    }
}
