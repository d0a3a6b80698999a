use proptest::prelude::*;
use sscard_domain::money::Fen;
use sscard_iso20022::format_amount;

proptest! {
    /// The written amount reads back as the same number of fen, with exactly two decimals.
    #[test]
    fn amounts_read_back_exactly(fen in 1i64..=999_999_999_999_999_999) {
        let text = format_amount(Fen::new(fen)).unwrap();
        let (whole, frac) = text.split_once('.').unwrap();
        prop_assert_eq!(frac.len(), 2);
        prop_assert!(!whole.is_empty() && (whole == "0" || !whole.starts_with('0')));
        prop_assert_eq!(Fen::from_yuan_str(&text).unwrap(), Fen::new(fen));
    }

    /// Summing the written amounts as decimals gives the written sum of the fen: CtrlSum is exact.
    #[test]
    fn sums_are_exact(amounts in prop::collection::vec(1i64..=1_000_000_000_000, 1..200)) {
        let total: i64 = amounts.iter().sum();
        let parsed: i64 = amounts
            .iter()
            .map(|a| Fen::from_yuan_str(&format_amount(Fen::new(*a)).unwrap()).unwrap().value())
            .sum();
        prop_assert_eq!(parsed, total);
        prop_assert_eq!(Fen::from_yuan_str(&format_amount(Fen::new(total)).unwrap()).unwrap().value(), total);
    }
}
