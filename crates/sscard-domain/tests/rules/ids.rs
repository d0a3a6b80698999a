//! Tests of the identifier types in `sscard_domain::ids`.

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, StrDeserializer};
use sscard_domain::ids::{
    BankCode, Bin, BranchCode, CardIdCode, CardNo, IdError, Pan, RegionCode, is_valid_province, luhn_check_digit,
    luhn_valid,
};

fn from_str<'a, T: Deserialize<'a>>(s: &'a str) -> Result<T, DeError> {
    let d: StrDeserializer<'a, DeError> = s.into_deserializer();
    T::deserialize(d)
}

#[test]
fn region_code_accepts_every_province_and_refuses_others() {
    let valid: Vec<u32> = (0..100).filter(|p| is_valid_province(*p)).collect();
    let expected: Vec<u32> =
        [11..=15, 21..=23, 31..=37, 41..=46, 50..=54, 61..=65].into_iter().flatten().chain([71, 81, 82, 83]).collect();
    assert_eq!(valid, expected);
    for p in 0..100u32 {
        let s = format!("{p:02}0100");
        assert_eq!(RegionCode::parse(&s).is_ok(), expected.contains(&p), "{s}");
    }
}

#[test]
fn region_code_parts_and_display() {
    let xm = RegionCode::parse("350200").unwrap();
    let fz = RegionCode::parse(" 350100 ").unwrap();
    let bj = RegionCode::parse("110105").unwrap();
    assert_eq!(xm.code(), 350200);
    assert_eq!(xm.province(), 35);
    assert!(xm.same_province(&fz));
    assert!(!xm.same_province(&bj));
    assert_eq!(xm.to_string(), "350200");
    assert!(bj < xm);
    assert_eq!(RegionCode::from_code(350200), Ok(xm));
    assert_eq!(RegionCode::of_province(35).unwrap().code(), 350000);
    assert!(RegionCode::of_province(99).is_err());
    assert!(RegionCode::from_code(99_999).is_err());
    assert!(RegionCode::from_code(1_000_000).is_err());
}

#[test]
fn region_code_refuses_bad_shapes_with_clear_errors() {
    for bad in ["", "35020", "3502000", "35020a", "３５０２００", "-35020", "+35020"] {
        assert!(matches!(RegionCode::parse(bad), Err(IdError::RegionFormat { .. })), "{bad:?}");
    }
    let err = RegionCode::parse("990000").unwrap_err();
    assert_eq!(err, IdError::RegionProvince { value: "990000".into(), province: 99 });
    assert!(err.to_string().contains("99"), "{err}");
    assert!(matches!(RegionCode::parse("010000"), Err(IdError::RegionProvince { province: 1, .. })));
}

#[test]
fn region_code_serde_is_a_string_through_parse() {
    let r: RegionCode = from_str("350200").unwrap();
    assert_eq!(r.code(), 350200);
    assert!(from_str::<RegionCode>("990000").is_err());
    assert!(from_str::<RegionCode>("3502").is_err());
}

#[test]
fn card_no_parse_and_from_serial() {
    assert_eq!(CardNo::parse("A12345678").unwrap().as_str(), "A12345678");
    assert_eq!(CardNo::parse(" b00000001 ").unwrap().as_str(), "B00000001");
    for bad in ["", "12345678", "A1234567", "A123456789", "AA2345678", "112345678", "A1234567X", "É12345678"] {
        assert!(matches!(CardNo::parse(bad), Err(IdError::CardNo { .. })), "{bad:?}");
    }
    assert_eq!(CardNo::from_serial(0).as_str(), "A00000000");
    assert_eq!(CardNo::from_serial(42).as_str(), "A00000042");
    assert_eq!(CardNo::from_serial(99_999_999).as_str(), "A99999999");
    assert_eq!(CardNo::from_serial(100_000_000).as_str(), "B00000000");
    assert_eq!(CardNo::from_serial(2_599_999_999).as_str(), "Z99999999");
    assert_eq!(CardNo::from_serial(2_600_000_001).as_str(), "A00000001");
    assert_eq!(CardNo::from_serial(u64::MAX).as_str().len(), 9);
    for serial in [0u64, 7, 123_456_789, 987_654_321_012, u64::MAX] {
        let c = CardNo::from_serial(serial);
        assert_eq!(CardNo::parse(c.as_str()), Ok(c.clone()));
        assert_eq!(c.to_string(), c.as_str());
        assert_eq!(from_str::<CardNo>(c.as_str()).unwrap(), c);
    }
}

#[test]
fn bin_parse() {
    assert_eq!(Bin::parse("621700").unwrap().as_str(), "621700");
    assert_eq!(Bin::parse("62170012").unwrap().as_str(), "62170012");
    for bad in ["", "62170", "621700123", "62170a", " "] {
        assert!(matches!(Bin::parse(bad), Err(IdError::Bin { .. })), "{bad:?}");
    }
}

#[test]
fn luhn_of_known_numbers() {
    assert_eq!(luhn_check_digit("7992739871"), 3);
    assert!(luhn_valid("79927398713"));
    for wrong in 0..10 {
        if wrong != 3 {
            assert!(!luhn_valid(&format!("7992739871{wrong}")));
        }
    }
    // Well-known test card numbers.
    assert!(luhn_valid("4111111111111111"));
    assert!(luhn_valid("5500005555555559"));
    assert!(luhn_valid("378282246310005"));
    assert!(!luhn_valid("4111111111111112"));
    assert_eq!(luhn_check_digit("411111111111111"), 1);
    assert_eq!(luhn_check_digit(""), 0);
    assert_eq!(luhn_check_digit("0"), 0);
    assert_eq!(luhn_check_digit("1"), 8);
    // Separators are skipped.
    assert_eq!(luhn_check_digit("7992 7398 71"), 3);
    assert!(!luhn_valid(""));
    assert!(!luhn_valid("7"));
    assert!(!luhn_valid("7992-739871-3"));
}

#[test]
fn pan_issue_roundtrip_and_mask() {
    let bin = Bin::parse("621700").unwrap();
    let pan = Pan::issue(&bin, 1234);
    assert_eq!(pan.as_str().len(), 19);
    assert!(pan.as_str().starts_with("621700000000001234"));
    assert!(luhn_valid(pan.as_str()));
    assert_eq!(Pan::parse(pan.as_str()), Ok(pan.clone()));
    assert_eq!(pan.masked(), format!("621700*********{}", &pan.as_str()[15..]));
    assert!(!format!("{pan:?}").contains("000000001234"));

    // Serial too large: taken modulo the space left (12 digits after a 6-digit BIN).
    let big = Pan::issue(&bin, 1_000_000_000_000 + 5);
    assert!(big.as_str().starts_with("621700000000000005"));
    let bin8 = Bin::parse("62170012").unwrap();
    let p8 = Pan::issue(&bin8, 12_345_678_901);
    assert!(p8.as_str().starts_with("621700122345678901"));
    assert!(Pan::parse(Pan::issue(&bin8, u64::MAX).as_str()).is_ok());

    let json: Pan = from_str(pan.as_str()).unwrap();
    assert_eq!(json, pan);
}

#[test]
fn pan_refusals() {
    assert_eq!(Pan::parse("123"), Err(IdError::PanLength { got: 3 }));
    assert_eq!(Pan::parse("6217000000000001 34"), Err(IdError::PanChar { position: 17, found: ' ' }));
    let good = Pan::issue(&Bin::parse("621700").unwrap(), 99);
    let check = good.as_str().as_bytes()[18] - b'0';
    let wrong = (check + 1) % 10;
    let bad = format!("{}{wrong}", &good.as_str()[..18]);
    let err = Pan::parse(&bad).unwrap_err();
    assert_eq!(err, IdError::PanCheckDigit { expected: check, got: wrong });
    // The error never repeats the account number.
    assert!(!err.to_string().contains(&good.as_str()[..18]));
    // Any single-digit change is refused.
    for i in 0..19 {
        for d in b'0'..=b'9' {
            let mut bytes = good.as_str().as_bytes().to_vec();
            if bytes[i] == d {
                continue;
            }
            bytes[i] = d;
            let s = String::from_utf8(bytes).unwrap();
            assert!(Pan::parse(&s).is_err(), "{s}");
        }
    }
}

#[test]
fn card_id_code_issue_parse_roundtrip() {
    let xm = RegionCode::parse("350200").unwrap();
    let c = CardIdCode::issue(xm, 0xABCDEF);
    assert_eq!(c.as_str(), "350200D1560000050000000000ABCDEF");
    assert_eq!(c.as_str().len(), 32);
    assert_eq!(c.region(), xm);
    assert_eq!(c.serial(), 0xABCDEF);
    assert_eq!(CardIdCode::parse(c.as_str()), Ok(c.clone()));
    assert_eq!(CardIdCode::parse("350200d1560000050000000000abcdef"), Ok(c.clone()));
    assert_eq!(from_str::<CardIdCode>(c.as_str()).unwrap(), c);
    let max = CardIdCode::issue(xm, u64::MAX);
    assert_eq!(max.serial(), u64::MAX);
    assert!(max.as_str().ends_with("FFFFFFFFFFFFFFFF"));
    for bad in [
        "",
        "350200D156000005000000000ABCDEF",  // 31
        "990000D1560000050000000000ABCDEF", // bad region
        "350200D1560000060000000000ABCDEF", // bad infix
        "350200D1560000050000000000ABCDEG", // not hex
        "350200D156000005000000000éABCDEF", // non-ASCII
    ] {
        assert!(matches!(CardIdCode::parse(bad), Err(IdError::CardIdCode { .. })), "{bad:?}");
    }
}

#[test]
fn bank_and_branch_codes() {
    assert_eq!(BankCode::parse(" icbc ").unwrap().as_str(), "ICBC");
    assert_eq!(BankCode::parse("BOC_XM-01").unwrap().to_string(), "BOC_XM-01");
    assert_eq!(BranchCode::parse("xm001").unwrap().as_str(), "XM001");
    for bad in ["", "A", "ABCDEFGHIJKLMNOPQ", "IC BC", "ICBC!", "工行"] {
        assert!(matches!(BankCode::parse(bad), Err(IdError::BankCode { .. })), "{bad:?}");
        assert!(matches!(BranchCode::parse(bad), Err(IdError::BranchCode { .. })), "{bad:?}");
    }
    assert_eq!(BankCode::parse("ABCDEFGHIJKLMNOP").unwrap().as_str().len(), 16);
    assert_eq!(from_str::<BankCode>("ccb").unwrap().as_str(), "CCB");
    assert!(from_str::<BranchCode>("x").is_err());
}

#[test]
fn long_input_is_shortened_in_errors() {
    let long = "9".repeat(10_000);
    let msg = CardNo::parse(&long).unwrap_err().to_string();
    assert!(msg.len() < 200, "{msg}");
}
