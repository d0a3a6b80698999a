//! Tests of documents, SSNs and masking in `sscard_domain::document`.

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, StrDeserializer};
use sscard_domain::document::{
    DocType, Document, DocumentError, ISO_3166_ALPHA3, Sex, Ssn, gb11643_check_char, is_iso_alpha3, make_resident_id,
    mask_id,
};
use sscard_domain::ids::RegionCode;
use time::{Date, macros::date};

const TODAY: Date = date!(2025 - 06 - 01);

fn from_str<'a, T: Deserialize<'a>>(s: &'a str) -> Result<T, DeError> {
    let d: StrDeserializer<'a, DeError> = s.into_deserializer();
    T::deserialize(d)
}

/// The first 17 digits followed by their check character.
fn with_check(first17: &str) -> String {
    let c = gb11643_check_char(first17.as_bytes()).expect("17 digits");
    format!("{first17}{c}")
}

/// The same number with a wrong check character.
fn with_wrong_check(first17: &str) -> String {
    let c = gb11643_check_char(first17.as_bytes()).expect("17 digits");
    let wrong = if c == '0' { '1' } else { '0' };
    format!("{first17}{wrong}")
}

fn parse(t: DocType, s: &str) -> Result<Document, DocumentError> {
    Document::parse(t, s, TODAY)
}

fn region(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

// --- check character ------------------------------------------------------

#[test]
fn check_char_of_known_numbers() {
    // The example number of GB 11643 and numbers checked by hand.
    assert_eq!(gb11643_check_char(b"11010519491231002"), Some('X'));
    assert_eq!(gb11643_check_char(b"35020019900101123"), Some('0'));
    assert_eq!(gb11643_check_char(b"35010219850615002"), Some('8'));
    assert_eq!(gb11643_check_char(b"81000019950310001"), Some('4'));
    assert_eq!(gb11643_check_char(b"93515619850615001"), Some('1'));
    assert_eq!(gb11643_check_char(b"44030420000229001"), Some('4'));
    assert_eq!(gb11643_check_char(b"1101051949123100"), None);
    assert_eq!(gb11643_check_char(b"110105194912310021"), None);
    assert_eq!(gb11643_check_char(b"1101051949123100A"), None);
    assert_eq!(gb11643_check_char(b""), None);
}

#[test]
fn make_resident_id_builds_known_numbers() {
    assert_eq!(make_resident_id(region("350200"), date!(1990 - 01 - 01), 123), "350200199001011230");
    assert_eq!(make_resident_id(region("110105"), date!(1949 - 12 - 31), 2), "11010519491231002X");
    assert_eq!(make_resident_id(region("810000"), date!(1995 - 03 - 10), 1), "810000199503100014");
    // The sequence is taken modulo 1000.
    assert_eq!(make_resident_id(region("350200"), date!(1990 - 01 - 01), 1123), "350200199001011230");
}

// --- resident ID ----------------------------------------------------------

#[test]
fn resident_id_valid_with_derived_facts() {
    let d = parse(DocType::ResidentId, "350200199001011230").unwrap();
    assert_eq!(d.doc_type(), DocType::ResidentId);
    assert_eq!(d.number(), "350200199001011230");
    assert_eq!(d.birth_date(), Some(date!(1990 - 01 - 01)));
    assert_eq!(d.sex(), Some(Sex::Male));
    assert_eq!(d.region(), Some(region("350200")));
    assert_eq!(d.ssn().unwrap().as_str(), "350200199001011230");
    assert_eq!(d.masked(), "3502**********1230");

    let f = parse(DocType::ResidentId, "350102198506150028").unwrap();
    assert_eq!(f.sex(), Some(Sex::Female));
    assert_eq!(f.birth_date(), Some(date!(1985 - 06 - 15)));

    let leap = parse(DocType::ResidentId, "440304200002290014").unwrap();
    assert_eq!(leap.birth_date(), Some(date!(2000 - 02 - 29)));
}

#[test]
fn resident_id_is_trimmed_and_lowercase_x_normalized() {
    let d = parse(DocType::ResidentId, "  11010519491231002x\n").unwrap();
    assert_eq!(d.number(), "11010519491231002X");
    assert_eq!(d.sex(), Some(Sex::Female));
    assert_eq!(d.birth_date(), Some(date!(1949 - 12 - 31)));
    assert_eq!(d.masked(), "1101**********002X");
}

#[test]
fn resident_id_bad_check_char() {
    let err = parse(DocType::ResidentId, "350200199001011231").unwrap_err();
    assert_eq!(err, DocumentError::BadCheckChar { expected: '0', got: '1' });
    assert_eq!(err.field(), "doc_number");
    let msg = err.to_string();
    assert!(msg.contains("should be 0") && msg.contains("mistyped"), "{msg}");
    assert_eq!(
        parse(DocType::ResidentId, "110105194912310020"),
        Err(DocumentError::BadCheckChar { expected: 'X', got: '0' })
    );
}

#[test]
fn resident_id_bad_dates() {
    // 30 February, with a correct check character.
    let feb30 = with_check("35020019900230123");
    assert!(matches!(
        parse(DocType::ResidentId, &feb30),
        Err(DocumentError::BadBirthDate { ref digits, .. }) if digits == "19900230"
    ));
    // 29 February of a year that is not a leap year.
    assert!(matches!(parse(DocType::ResidentId, "440304197802290018"), Err(DocumentError::BadBirthDate { .. })));
    for first17 in [
        "35020019901301123", // month 13
        "35020019900001123", // month 00
        "35020019900100123", // day 00
        "35020019900132123", // day 32
        "35020018991231123", // before 1900
    ] {
        let n = with_check(first17);
        assert!(
            matches!(parse(DocType::ResidentId, &n), Err(DocumentError::BadBirthDate { .. })),
            "{n}: {:?}",
            parse(DocType::ResidentId, &n)
        );
    }
    let future = with_check("35020020991231123");
    assert_eq!(
        parse(DocType::ResidentId, &future),
        Err(DocumentError::BirthDateInFuture { date: date!(2099 - 12 - 31), today: TODAY })
    );
    let msg = parse(DocType::ResidentId, &future).unwrap_err().to_string();
    assert!(msg.contains("2099-12-31") && msg.contains("2025-06-01"), "{msg}");
    // Born today is fine, born tomorrow is not.
    let today = make_resident_id(region("350200"), TODAY, 1);
    assert_eq!(parse(DocType::ResidentId, &today).unwrap().birth_date(), Some(TODAY));
    let tomorrow = make_resident_id(region("350200"), date!(2025 - 06 - 02), 1);
    assert!(matches!(parse(DocType::ResidentId, &tomorrow), Err(DocumentError::BirthDateInFuture { .. })));
    let first = make_resident_id(region("350200"), date!(1900 - 01 - 01), 1);
    assert!(parse(DocType::ResidentId, &first).is_ok());
}

#[test]
fn resident_id_wrong_regions() {
    for prefix in ["990000", "000000", "810000", "820000", "830000", "710000", "810100", "160000"] {
        let n = with_check(&format!("{prefix}19900101123"));
        match parse(DocType::ResidentId, &n) {
            Err(DocumentError::WrongRegion { region, reason }) => {
                assert_eq!(region, prefix);
                assert!(!reason.is_empty());
            }
            other => panic!("{prefix}: {other:?}"),
        }
    }
    let n = with_check("81000019900101123");
    let msg = parse(DocType::ResidentId, &n).unwrap_err().to_string();
    assert!(msg.contains("residence_permit"), "{msg}");
}

#[test]
fn resident_id_shape_errors() {
    assert_eq!(parse(DocType::ResidentId, "   "), Err(DocumentError::Empty));
    assert_eq!(
        parse(DocType::ResidentId, "35020019900101123"),
        Err(DocumentError::WrongLength { expected: "18", got: 17 })
    );
    assert_eq!(
        parse(DocType::ResidentId, "3502001990010112300"),
        Err(DocumentError::WrongLength { expected: "18", got: 19 })
    );
    assert!(matches!(
        parse(DocType::ResidentId, "3502 00199001011230"),
        Err(DocumentError::BadChar { position: 5, found: ' ', .. })
    ));
    assert!(matches!(
        parse(DocType::ResidentId, "35020019900101X230"),
        Err(DocumentError::BadChar { position: 15, found: 'X', .. })
    ));
    assert!(matches!(
        parse(DocType::ResidentId, "３50200199001011230"),
        Err(DocumentError::BadChar { position: 1, found: '３', .. })
    ));
}

// --- residence permit -----------------------------------------------------

#[test]
fn residence_permit_valid_and_regions() {
    for (prefix, sex) in [("810000", Sex::Male), ("820000", Sex::Female), ("830000", Sex::Male)] {
        let seq = if sex == Sex::Male { "001" } else { "002" };
        let n = with_check(&format!("{prefix}19950310{seq}"));
        let d = parse(DocType::ResidencePermit, &n).unwrap();
        assert_eq!(d.region(), Some(region(prefix)));
        assert_eq!(d.sex(), Some(sex));
        assert_eq!(d.birth_date(), Some(date!(1995 - 03 - 10)));
        assert_eq!(d.ssn().unwrap().as_str(), n);
    }
    assert_eq!(parse(DocType::ResidencePermit, "810000199503100014").unwrap().number(), "810000199503100014");
}

#[test]
fn residence_permit_refusals() {
    // A resident ID number entered as a residence permit.
    match parse(DocType::ResidencePermit, "350200199001011230") {
        Err(DocumentError::WrongRegion { region, reason }) => {
            assert_eq!(region, "350200");
            assert!(reason.contains("resident_id"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for prefix in ["810100", "840000", "710000", "990000"] {
        let n = with_check(&format!("{prefix}19950310001"));
        assert!(matches!(parse(DocType::ResidencePermit, &n), Err(DocumentError::WrongRegion { .. })), "{prefix}");
    }
    assert_eq!(
        parse(DocType::ResidencePermit, "810000199503100015"),
        Err(DocumentError::BadCheckChar { expected: '4', got: '5' })
    );
    let bad_date = with_check("81000019950229001");
    assert!(matches!(parse(DocType::ResidencePermit, &bad_date), Err(DocumentError::BadBirthDate { .. })));
    let future = with_check("83000020991231001");
    assert!(matches!(parse(DocType::ResidencePermit, &future), Err(DocumentError::BirthDateInFuture { .. })));
}

// --- foreign permanent residence ID ---------------------------------------

#[test]
fn foreign_permanent_id_2023() {
    let d = parse(DocType::ForeignPermanentId, "935156198506150011").unwrap();
    assert_eq!(d.birth_date(), Some(date!(1985 - 06 - 15)));
    assert_eq!(d.sex(), Some(Sex::Male));
    assert_eq!(d.region(), Some(region("350000")));
    assert_eq!(d.ssn().unwrap().as_str(), "935156198506150011");

    let f = with_check("91184019900101002");
    let d = parse(DocType::ForeignPermanentId, &f).unwrap();
    assert_eq!(d.sex(), Some(Sex::Female));
    assert_eq!(d.region(), Some(region("110000")));

    // Two digits after the 9 that are no province: valid, but no region.
    let n = with_check("99984019900101002");
    assert_eq!(parse(DocType::ForeignPermanentId, &n).unwrap().region(), None);

    assert_eq!(
        parse(DocType::ForeignPermanentId, "935156198506150012"),
        Err(DocumentError::BadCheckChar { expected: '1', got: '2' })
    );
    let bad_date = with_check("93515619850631001");
    assert!(matches!(parse(DocType::ForeignPermanentId, &bad_date), Err(DocumentError::BadBirthDate { .. })));
    let future = with_check("93515620991231001");
    assert!(matches!(parse(DocType::ForeignPermanentId, &future), Err(DocumentError::BirthDateInFuture { .. })));
    // 18 characters that do not start with 9 (a resident ID number).
    assert!(matches!(parse(DocType::ForeignPermanentId, "350200199001011230"), Err(DocumentError::BadShape { .. })));
}

#[test]
fn foreign_permanent_id_2017() {
    let d = parse(DocType::ForeignPermanentId, "USA110085061501").unwrap();
    assert_eq!(d.number(), "USA110085061501");
    assert_eq!(d.birth_date(), None);
    assert_eq!(d.sex(), None);
    assert_eq!(d.region(), None);
    assert_eq!(d.ssn().unwrap().as_str(), "USA110085061501");
    assert_eq!(parse(DocType::ForeignPermanentId, " deu350012345678 ").unwrap().number(), "DEU350012345678");
    assert_eq!(
        parse(DocType::ForeignPermanentId, "XXX110085061501"),
        Err(DocumentError::UnknownNationality { code: "XXX".into() })
    );
    assert_eq!(
        parse(DocType::ForeignPermanentId, "UKX110085061501"),
        Err(DocumentError::UnknownNationality { code: "UKX".into() })
    );
    assert!(matches!(
        parse(DocType::ForeignPermanentId, "US1110085061501"),
        Err(DocumentError::BadChar { position: 3, .. })
    ));
    assert!(matches!(
        parse(DocType::ForeignPermanentId, "USA11008506150A"),
        Err(DocumentError::BadChar { position: 15, .. })
    ));
    assert!(matches!(
        parse(DocType::ForeignPermanentId, "USA11008506150"),
        Err(DocumentError::WrongLength { got: 14, .. })
    ));
}

#[test]
fn iso_list_is_sorted_complete_and_searchable() {
    assert_eq!(ISO_3166_ALPHA3.len(), 249);
    assert!(ISO_3166_ALPHA3.windows(2).all(|w| w[0] < w[1]));
    assert!(ISO_3166_ALPHA3.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    for code in ["ABW", "CHN", "USA", "DEU", "GBR", "JPN", "KOR", "RUS", "ZWE", "SSD", "BES"] {
        assert!(is_iso_alpha3(code), "{code}");
    }
    for code in ["", "XXX", "UK", "usa", "ZZZ", "AAA", "CHNA"] {
        assert!(!is_iso_alpha3(code), "{code}");
    }
}

// --- passports and permits ------------------------------------------------

#[test]
fn passport() {
    for ok in ["E12345678", "g1234567", "12345", "AB1234567890CDEFG", "P0000"] {
        assert!(parse(DocType::Passport, ok).is_ok(), "{ok}");
    }
    let d = parse(DocType::Passport, " e12345678 ").unwrap();
    assert_eq!(d.number(), "E12345678");
    assert_eq!((d.birth_date(), d.sex(), d.region(), d.ssn()), (None, None, None, None));
    assert_eq!(d.masked(), "E123*5678");
    assert!(matches!(parse(DocType::Passport, "E123"), Err(DocumentError::WrongLength { got: 4, .. })));
    assert!(matches!(parse(DocType::Passport, "AB1234567890CDEFGH"), Err(DocumentError::WrongLength { got: 18, .. })));
    assert!(matches!(parse(DocType::Passport, "ABCDEFGH"), Err(DocumentError::BadShape { .. })));
    assert!(matches!(
        parse(DocType::Passport, "E1234-5678"),
        Err(DocumentError::BadChar { position: 6, found: '-', .. })
    ));
}

#[test]
fn hk_macau_travel_permit() {
    for ok in ["H12345678", "M12345678", "h1234567890", "M0000000000"] {
        let d = parse(DocType::HkMacauTravelPermit, ok).unwrap();
        assert_eq!(d.ssn(), None);
    }
    assert!(matches!(
        parse(DocType::HkMacauTravelPermit, "X12345678"),
        Err(DocumentError::BadChar { position: 1, .. })
    ));
    assert!(matches!(
        parse(DocType::HkMacauTravelPermit, "H1234567A"),
        Err(DocumentError::BadChar { position: 9, .. })
    ));
    for bad_len in ["H1234567", "H123456789", "H123456789012", "H"] {
        assert!(
            matches!(parse(DocType::HkMacauTravelPermit, bad_len), Err(DocumentError::WrongLength { .. })),
            "{bad_len}"
        );
    }
}

#[test]
fn taiwan_travel_permit() {
    assert!(parse(DocType::TaiwanTravelPermit, "12345678").is_ok());
    assert!(matches!(parse(DocType::TaiwanTravelPermit, "1234567"), Err(DocumentError::WrongLength { got: 7, .. })));
    assert!(matches!(parse(DocType::TaiwanTravelPermit, "123456789"), Err(DocumentError::WrongLength { got: 9, .. })));
    assert!(matches!(parse(DocType::TaiwanTravelPermit, "T1234567"), Err(DocumentError::BadChar { position: 1, .. })));
}

#[test]
fn foreign_work_permit() {
    assert!(parse(DocType::ForeignWorkPermit, "ABC123456").is_ok());
    assert!(parse(DocType::ForeignWorkPermit, "12345678901234567890").is_ok());
    assert!(matches!(parse(DocType::ForeignWorkPermit, "ABC12345"), Err(DocumentError::WrongLength { got: 8, .. })));
    assert!(matches!(
        parse(DocType::ForeignWorkPermit, "123456789012345678901"),
        Err(DocumentError::WrongLength { got: 21, .. })
    ));
    assert!(matches!(parse(DocType::ForeignWorkPermit, "ABC 123456"), Err(DocumentError::BadChar { position: 4, .. })));
    assert_eq!(parse(DocType::ForeignWorkPermit, ""), Err(DocumentError::Empty));
}

// --- types, sex, errors ---------------------------------------------------

#[test]
fn doc_type_names_roundtrip() {
    let names = [
        "resident_id",
        "residence_permit",
        "foreign_permanent_id",
        "passport",
        "hk_macau_travel_permit",
        "taiwan_travel_permit",
        "foreign_work_permit",
    ];
    for (t, name) in DocType::ALL.into_iter().zip(names) {
        assert_eq!(t.as_str(), name);
        assert_eq!(t.to_string(), name);
        assert_eq!(DocType::parse(name), Ok(t));
        assert_eq!(name.parse::<DocType>(), Ok(t));
        assert_eq!(from_str::<DocType>(name).unwrap(), t);
        assert!(!t.label().is_empty());
    }
    assert_eq!(DocType::parse(" Passport "), Ok(DocType::Passport));
    let err = DocType::parse("id_card").unwrap_err();
    assert_eq!(err.field(), "doc_type");
    assert!(err.to_string().contains("resident_id"));
    assert!(from_str::<DocType>("id_card").is_err());
    let carries: Vec<bool> = DocType::ALL.iter().map(|t| t.number_is_ssn()).collect();
    assert_eq!(carries, [true, true, true, false, false, false, false]);
}

#[test]
fn sex_names() {
    assert_eq!(Sex::parse("male"), Ok(Sex::Male));
    assert_eq!(Sex::parse(" Female "), Ok(Sex::Female));
    assert_eq!(Sex::Male.as_str(), "male");
    assert_eq!(Sex::Female.to_string(), "female");
    assert_eq!(from_str::<Sex>("female").unwrap(), Sex::Female);
    assert!(from_str::<Sex>("Female").is_err());
    let err = Sex::parse("m").unwrap_err();
    assert_eq!(err.field(), "sex");
}

#[test]
fn errors_name_their_field_and_never_repeat_the_number() {
    let n = "350200199001011231";
    for (t, s) in [
        (DocType::ResidentId, n),
        (DocType::ResidentId, "990000199001011230"),
        (DocType::ResidencePermit, "350200199001011230"),
        (DocType::Passport, "ABCDEFGHIJ"),
    ] {
        let err = parse(t, s).unwrap_err();
        assert_eq!(err.field(), "doc_number");
        assert!(!err.to_string().contains(s), "{err}");
    }
}

#[test]
fn debug_masks_numbers() {
    let d = parse(DocType::ResidentId, "350200199001011230").unwrap();
    let dbg = format!("{d:?}");
    assert!(!dbg.contains("350200199001011230"), "{dbg}");
    assert!(dbg.contains("3502**********1230"), "{dbg}");
    let ssn = d.ssn().unwrap();
    assert!(!format!("{ssn:?}").contains("199001"));
    assert_eq!(ssn.to_string(), "350200199001011230");
}

// --- masking ---------------------------------------------------------------

#[test]
fn mask_id_rules() {
    assert_eq!(mask_id("35010219900101123X"), "3501**********123X");
    assert_eq!(mask_id("USA110085061501"), "USA1*******1501");
    assert_eq!(mask_id("123456789"), "1234*6789");
    assert_eq!(mask_id("12345678"), "1******8");
    assert_eq!(mask_id("E1234"), "E***4");
    assert_eq!(mask_id("abc"), "a*c");
    assert_eq!(mask_id("ab"), "**");
    assert_eq!(mask_id("a"), "*");
    assert_eq!(mask_id(""), "");
    assert_eq!(mask_id("张三丰李四王五赵六"), "张三丰李*王五赵六");
}

// --- SSN -------------------------------------------------------------------

#[test]
fn ssn_assigned_known_values() {
    let s = Ssn::assigned(region("350200"), 42);
    assert_eq!(s.as_str(), "A35020000000000429");
    assert!(s.is_assigned());
    assert_eq!(s.masked(), "A350**********0429");
    assert_eq!(Ssn::assigned(region("110105"), 1_234_567_890).as_str(), "A11010512345678904");
    // The serial is taken modulo 10^10.
    assert_eq!(Ssn::assigned(region("110105"), 71_234_567_890), Ssn::assigned(region("110105"), 1_234_567_890));
    assert_eq!(Ssn::assigned(region("350200"), u64::MAX).as_str().len(), 18);
}

#[test]
fn ssn_parse_accepts_every_kind() {
    for s in [
        "350200199001011230",
        "11010519491231002X",
        "810000199503100014",
        "935156198506150011",
        "USA110085061501",
        "A35020000000000429",
        "A11010512345678904",
    ] {
        let ssn = Ssn::parse(s).unwrap();
        assert_eq!(ssn.as_str(), s);
        assert_eq!(from_str::<Ssn>(s).unwrap(), ssn);
        assert_eq!(ssn.is_assigned(), s.starts_with('A'));
    }
    assert_eq!(Ssn::parse(" a35020000000000429 ").unwrap().as_str(), "A35020000000000429");
    assert_eq!(Ssn::parse("11010519491231002x").unwrap().as_str(), "11010519491231002X");
    for t in [DocType::ResidentId, DocType::ResidencePermit, DocType::ForeignPermanentId] {
        for n in ["350200199001011230", "810000199503100014", "935156198506150011", "USA110085061501"] {
            if let Ok(d) = parse(t, n) {
                assert_eq!(d.ssn(), Some(Ssn::parse(n).unwrap()));
            }
        }
    }
}

#[test]
fn ssn_parse_refusals() {
    assert_eq!(Ssn::parse(""), Err(DocumentError::Empty));
    assert!(matches!(Ssn::parse("A35020000000000428"), Err(DocumentError::BadCheckChar { expected: '9', got: '8' })));
    let bad_region = {
        let body = "9902000000000042";
        // Any check character: the region is refused first.
        format!("A{body}0")
    };
    assert!(matches!(Ssn::parse(&bad_region), Err(DocumentError::WrongRegion { .. })));
    assert!(matches!(Ssn::parse("A3502000000000042X9"), Err(DocumentError::WrongLength { got: 19, .. })));
    assert!(matches!(Ssn::parse("A350200000000X0429"), Err(DocumentError::BadChar { position: 14, .. })));
    assert!(matches!(Ssn::parse("350200199001011231"), Err(DocumentError::BadCheckChar { .. })));
    assert!(matches!(Ssn::parse(&with_check("35020019900230123")), Err(DocumentError::BadBirthDate { .. })));
    assert!(matches!(Ssn::parse("XXX110085061501"), Err(DocumentError::UnknownNationality { .. })));
    assert!(matches!(Ssn::parse("E12345678"), Err(DocumentError::WrongLength { got: 9, .. })));
    assert!(from_str::<Ssn>("350200199001011231").is_err());
    // An assigned SSN is never a valid ID number and vice versa.
    assert!(parse(DocType::ResidentId, "A35020000000000429").is_err());
}

#[test]
fn wrong_check_helper_really_is_wrong() {
    let n = with_wrong_check("35020019900101123");
    assert!(matches!(parse(DocType::ResidentId, &n), Err(DocumentError::BadCheckChar { .. })));
}
