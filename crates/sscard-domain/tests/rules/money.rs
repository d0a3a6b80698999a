//! Tests of `sscard_domain::money::Fen`.

use proptest::prelude::*;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, I64Deserializer};
use sscard_domain::money::{Fen, MoneyError};

#[test]
fn display_has_two_decimals() {
    assert_eq!(Fen::new(2000).to_string(), "20.00");
    assert_eq!(Fen::new(2050).to_string(), "20.50");
    assert_eq!(Fen::new(5).to_string(), "0.05");
    assert_eq!(Fen::ZERO.to_string(), "0.00");
    assert_eq!(Fen::new(-310).to_string(), "-3.10");
    assert_eq!(Fen::new(-5).to_string(), "-0.05");
    assert_eq!(Fen::new(i64::MIN).to_string(), "-92233720368547758.08");
    assert_eq!(Fen::new(i64::MAX).to_string(), "92233720368547758.07");
    assert_eq!(format!("{:>8}", Fen::new(100)), "    1.00");
}

#[test]
fn from_yuan_str_is_exact() {
    let ok = [
        ("20", 2000),
        ("20.5", 2050),
        ("20.05", 2005),
        ("0.01", 1),
        ("0.1", 10),
        (" 7 ", 700),
        ("+1", 100),
        ("-3.10", -310),
        ("0", 0),
        ("-0.00", 0),
        ("00012.30", 1230),
        ("92233720368547758.07", i64::MAX),
        ("-92233720368547758.08", i64::MIN),
    ];
    for (s, fen) in ok {
        assert_eq!(Fen::from_yuan_str(s), Ok(Fen::new(fen)), "{s:?}");
    }
    // 0.1 + 0.2 is exactly 0.3 here, unlike with floats.
    let sum = Fen::from_yuan_str("0.1").unwrap().checked_add(Fen::from_yuan_str("0.2").unwrap());
    assert_eq!(sum, Some(Fen::from_yuan_str("0.3").unwrap()));
}

#[test]
fn from_yuan_str_refusals() {
    for s in ["", " ", "-", "+", ".5", "5.", "1.2.3", "1,000", "1e3", "abc", "１", "--1", "1 000", "0x10", "NaN"] {
        assert!(
            matches!(Fen::from_yuan_str(s), Err(MoneyError::BadAmount { .. })),
            "{s:?} -> {:?}",
            Fen::from_yuan_str(s)
        );
    }
    assert!(matches!(Fen::from_yuan_str("20.005"), Err(MoneyError::TooManyDecimals { .. })));
    assert!(matches!(Fen::from_yuan_str("92233720368547758.08"), Err(MoneyError::Overflow { .. })));
    assert!(matches!(Fen::from_yuan_str("99999999999999999999999"), Err(MoneyError::Overflow { .. })));
    let msg = Fen::from_yuan_str("20.005").unwrap_err().to_string();
    assert!(msg.contains("20.005") && msg.contains("2 decimals"), "{msg}");
}

#[test]
fn parse_amount_bounds() {
    assert_eq!(Fen::parse_amount(1), Ok(Fen::new(1)));
    assert_eq!(Fen::parse_amount(Fen::MAX_AMOUNT), Ok(Fen::new(1_000_000_000_000)));
    assert_eq!(Fen::parse_amount(0), Err(MoneyError::NotPositive { got: 0 }));
    assert_eq!(Fen::parse_amount(-5), Err(MoneyError::NotPositive { got: -5 }));
    assert_eq!(
        Fen::parse_amount(1_000_000_000_001),
        Err(MoneyError::TooLarge { got: 1_000_000_000_001, max: 1_000_000_000_000 })
    );
    assert!(Fen::parse_amount(i64::MAX).is_err());
    assert!(Fen::parse_amount(i64::MIN).is_err());
}

#[test]
fn checked_arithmetic() {
    let a = Fen::new(2000);
    assert_eq!(a.checked_add(Fen::new(5)), Some(Fen::new(2005)));
    assert_eq!(a.checked_sub(Fen::new(2500)), Some(Fen::new(-500)));
    assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
    assert_eq!(Fen::new(i64::MIN).checked_sub(Fen::new(1)), None);
    assert_eq!(Fen::new(i64::MIN).checked_neg(), None);
    assert_eq!(a.checked_mul(3), Some(Fen::new(6000)));
    assert_eq!(Fen::new(i64::MAX).checked_mul(2), None);
    assert_eq!(Fen::from_yuan(20), Some(Fen::new(2000)));
    assert_eq!(Fen::from_yuan(i64::MAX), None);
    assert!(Fen::new(1).is_positive() && Fen::new(-1).is_negative() && Fen::ZERO.is_zero());
    assert!(Fen::new(1) < Fen::new(2));
    assert_eq!(Fen::default(), Fen::ZERO);
    assert_eq!(a.value(), 2000);
    assert_eq!("20.5".parse::<Fen>(), Ok(Fen::new(2050)));
}

#[test]
fn serde_is_a_bare_integer() {
    let d: I64Deserializer<DeError> = 2050i64.into_deserializer();
    assert_eq!(Fen::deserialize(d), Ok(Fen::new(2050)));
}

proptest! {
    #[test]
    fn display_then_parse_roundtrips(v in any::<i64>()) {
        let f = Fen::new(v);
        prop_assert_eq!(Fen::from_yuan_str(&f.to_string()), Ok(f));
    }

    #[test]
    fn yuan_and_fen_strings_agree(yuan in 0i64..1_000_000_000, fen in 0i64..100) {
        let s = format!("{yuan}.{fen:02}");
        prop_assert_eq!(Fen::from_yuan_str(&s), Ok(Fen::new(yuan * 100 + fen)));
        let neg = format!("-{s}");
        prop_assert_eq!(Fen::from_yuan_str(&neg), Ok(Fen::new(-(yuan * 100 + fen))));
    }
}
