//! Medical settlement (医保结算): the insured region's policy splits a bill into
//! what the pooled fund pays, what the personal medical account pays and what is self-paid.
//!
//! For a bill A under a policy with deductible D per calendar year, pool ratio r and annual cap C:
//! 1. the deductible still open this year, `D − deductible used`, is taken from the bill first
//!    (`deductible applied = min(A, open)`);
//! 2. the pool pays `min(floor((A − deductible applied) · r), C − pool paid this year)`;
//! 3. the personal account pays what it can of the rest;
//! 4. the remainder is self-pay (from the bank account).
//!
//! Rounding rule: r is an integer number of basis points (1/10,000) and the pool share is
//! rounded DOWN to the whole fen (floor, the amount is never negative); the fraction of a fen
//! stays in the holder's part. Every other step is exact integer arithmetic, so
//! `pool + account + self_pay == A` for every bill. The year is the China calendar year of
//! the settlement. The ratio depends on where the bill is settled against the insured region:
//! the same city (first four digits of the region code) is local, the same province is
//! in-province, anything else is cross-province (异地就医).

use crate::application::string_enum;
use crate::card::Card;
use crate::error::DomainError;
use crate::ids::RegionCode;
use crate::ledger::{AccountId, AccountKind, Leg, TransferKind};
use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// 100% in basis points.
pub const FULL_BP: u32 = 10_000;
/// Longest bill id, in characters.
pub const MAX_BILL_ID: usize = 64;

string_enum!(
    /// Where a bill is settled, seen from the holder's insured region: the same city (the first
    /// four digits of the region codes agree), the same province, or another province (异地就医).
    Locality { Local => "local", InProvince => "in_province", CrossProvince => "cross_province" }
);

impl Locality {
    pub fn of(insured: RegionCode, institution: RegionCode) -> Locality {
        if insured.code() / 100 == institution.code() / 100 {
            Locality::Local
        } else if insured.same_province(&institution) {
            Locality::InProvince
        } else {
            Locality::CrossProvince
        }
    }
}

/// A region's medical insurance policy. All amounts in fen, ratios in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicalPolicy {
    /// The insured region it applies to (a city, or a province's `xx0000`).
    pub region: RegionCode,
    /// Deductible (起付线) per calendar year.
    pub deductible_fen: i64,
    /// Pool ratio for local bills, in basis points (7000 = 70%).
    pub ratio_local_bp: u32,
    /// Pool ratio for bills elsewhere in the province.
    pub ratio_in_province_bp: u32,
    /// Pool ratio for cross-province bills.
    pub ratio_cross_province_bp: u32,
    /// Annual cap (封顶线) on what the pool pays per person per year.
    pub annual_cap_fen: i64,
}

impl MedicalPolicy {
    /// The defaults used where no policy is configured: deductible 800 yuan, 70% / 65% / 60%,
    /// cap 300,000 yuan a year.
    pub fn default_for(region: RegionCode) -> MedicalPolicy {
        MedicalPolicy {
            region,
            deductible_fen: 80_000,
            ratio_local_bp: 7_000,
            ratio_in_province_bp: 6_500,
            ratio_cross_province_bp: 6_000,
            annual_cap_fen: 30_000_000,
        }
    }

    /// Check a configured policy: amounts between 0 and [`Fen::MAX_AMOUNT`], ratios within 0..=100%.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (field, v) in [("deductible_fen", self.deductible_fen), ("annual_cap_fen", self.annual_cap_fen)] {
            if !(0..=Fen::MAX_AMOUNT).contains(&v) {
                return Err(DomainError::invalid(
                    "bad_policy",
                    field,
                    format!("{field} must be 0..={}", Fen::MAX_AMOUNT),
                ));
            }
        }
        for (field, r) in [
            ("ratio_local_bp", self.ratio_local_bp),
            ("ratio_in_province_bp", self.ratio_in_province_bp),
            ("ratio_cross_province_bp", self.ratio_cross_province_bp),
        ] {
            if r > FULL_BP {
                return Err(DomainError::invalid("bad_policy", field, format!("{field} must be 0..={FULL_BP}")));
            }
        }
        Ok(())
    }

    pub fn ratio_bp(&self, locality: Locality) -> u32 {
        match locality {
            Locality::Local => self.ratio_local_bp,
            Locality::InProvince => self.ratio_in_province_bp,
            Locality::CrossProvince => self.ratio_cross_province_bp,
        }
    }
}

/// What this person's policy year has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearToDate {
    pub deductible_used_fen: i64,
    pub pool_paid_fen: i64,
}

/// How a bill is split. `pool + account + self_pay == bill` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub bill_fen: i64,
    pub pool_fen: i64,
    pub account_fen: i64,
    pub self_pay_fen: i64,
    /// The part of the bill that went toward this year's deductible.
    pub deductible_applied_fen: i64,
    pub ratio_bp: u32,
    pub locality: Locality,
}

/// Check a bill id: 1..=64 printable ASCII characters.
pub fn check_bill_id(bill_id: &str) -> Result<(), DomainError> {
    if bill_id.is_empty() || bill_id.len() > MAX_BILL_ID || !bill_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "bad_bill_id",
            "bill_id",
            format!("bill_id must be 1..={MAX_BILL_ID} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// Split bill `bill` for a holder whose personal account holds `account_balance`.
pub fn split(
    bill: Fen,
    policy: &MedicalPolicy,
    locality: Locality,
    ytd: YearToDate,
    account_balance: Fen,
) -> Result<Split, DomainError> {
    let a = Fen::parse_amount(bill.value()).map_err(|e| DomainError::from(e).with_field("amount_fen"))?.value();
    let open_deductible = (policy.deductible_fen - ytd.deductible_used_fen).max(0);
    let deductible_applied = a.min(open_deductible);
    let eligible = a - deductible_applied;
    let ratio = policy.ratio_bp(locality).min(FULL_BP);
    // floor(eligible * r / 10000); i128 so that no amount can overflow.
    let by_ratio = (i128::from(eligible) * i128::from(ratio) / i128::from(FULL_BP)) as i64;
    let cap_left = (policy.annual_cap_fen - ytd.pool_paid_fen).max(0);
    let pool = by_ratio.min(cap_left);
    let rest = a - pool;
    let account = rest.min(account_balance.value().max(0));
    let self_pay = rest - account;
    Ok(Split {
        bill_fen: a,
        pool_fen: pool,
        account_fen: account,
        self_pay_fen: self_pay,
        deductible_applied_fen: deductible_applied,
        ratio_bp: ratio,
        locality,
    })
}

/// The year-to-date after settling `split`.
pub fn after_settlement(ytd: YearToDate, split: &Split) -> YearToDate {
    YearToDate {
        deductible_used_fen: ytd.deductible_used_fen + split.deductible_applied_fen,
        pool_paid_fen: ytd.pool_paid_fen + split.pool_fen,
    }
}

/// The year-to-date after refunding `split` in full: exactly what the settlement added comes off.
pub fn after_refund(ytd: YearToDate, split: &Split) -> YearToDate {
    YearToDate {
        deductible_used_fen: (ytd.deductible_used_fen - split.deductible_applied_fen).max(0),
        pool_paid_fen: (ytd.pool_paid_fen - split.pool_fen).max(0),
    }
}

/// A settlement can be refunded once, in full.
pub fn decide_refund(already_refunded: bool) -> Result<(), DomainError> {
    if already_refunded {
        Err(DomainError::conflict("already_refunded", "this settlement was already refunded", Some("refunded".into())))
    } else {
        Ok(())
    }
}

/// The regions whose policies apply to `region`: its own and its province's.
pub fn policy_regions(region: RegionCode) -> (RegionCode, RegionCode) {
    (region, RegionCode::of_province(region.province()).unwrap_or(region))
}

/// Of the policies set for `region` and its province, the region's own, else the province's
/// (applied to this region), else the default.
pub fn choose_policy(region: RegionCode, set: Vec<MedicalPolicy>) -> MedicalPolicy {
    if let Some(p) = set.iter().find(|p| p.region == region) {
        return p.clone();
    }
    match set.into_iter().next() {
        Some(p) => MedicalPolicy { region, ..p },
        None => MedicalPolicy::default_for(region),
    }
}

/// The same bill id at the same operator again: the same card and amount replay the first
/// settlement (`Ok`); other details are a 409.
pub fn judge_repeated_bill(bill_id: &str, same_card: bool, same_amount: bool) -> Result<(), DomainError> {
    if same_card && same_amount {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "bill_settled",
            format!("bill {bill_id} was already settled with other details"),
            Some("settled".into()),
        ))
    }
}

/// The source of the self-pay part: the card's bank account, or cash at the institution's desk
/// for a card without the financial function (a temporary card).
pub fn self_pay_account(card: &Card, operator_code: &str) -> Result<AccountId, DomainError> {
    match card.pan {
        Some(_) => AccountId::new(AccountKind::Bank, card.card_no.as_str()),
        None => AccountId::new(AccountKind::Cash, operator_code),
    }
}

/// The four accounts a settlement and its refund move money between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementAccounts {
    /// The insured region's pooled fund.
    pub pool: AccountId,
    /// The holder's personal medical account.
    pub account: AccountId,
    /// Where the self-pay part comes from ([`self_pay_account`]).
    pub own: AccountId,
    /// The institution's clearing account.
    pub clearing: AccountId,
}

impl SettlementAccounts {
    pub fn new(
        insured_region: RegionCode,
        person_id: &str,
        card: &Card,
        operator_code: &str,
    ) -> Result<SettlementAccounts, DomainError> {
        Ok(SettlementAccounts {
            pool: AccountId::new(AccountKind::Pool, insured_region.to_string())?,
            account: AccountId::new(AccountKind::Medical, person_id)?,
            own: self_pay_account(card, operator_code)?,
            clearing: AccountId::new(AccountKind::Clearing, operator_code)?,
        })
    }

    /// Each part of `split`: the account it is paid from, its amount, its transfer kind and key suffix.
    fn parts(&self, split: &Split) -> [(AccountId, i64, TransferKind, &'static str); 3] {
        [
            (self.pool.clone(), split.pool_fen, TransferKind::MedicalPool, "pool"),
            (self.account.clone(), split.account_fen, TransferKind::MedicalAccount, "account"),
            (self.own.clone(), split.self_pay_fen, TransferKind::MedicalSelfPay, "self"),
        ]
    }
}

/// The legs of settlement `id`: each part of the split from where it is paid to the clearing
/// account (zero parts are skipped when posted).
pub fn settlement_legs(id: &str, accounts: &SettlementAccounts, split: &Split) -> [Leg; 3] {
    accounts.parts(split).map(|(from, amount, kind, part)| Leg {
        from,
        to: accounts.clearing.clone(),
        amount: Fen::new(amount),
        kind,
        key: format!("settlement:{id}:{part}"),
    })
}

/// The legs refunding settlement `id`: the settlement's legs reversed, each part back from the
/// clearing account to where it came from.
pub fn refund_legs(id: &str, accounts: &SettlementAccounts, split: &Split) -> [Leg; 3] {
    accounts.parts(split).map(|(to, amount, _, part)| Leg {
        from: accounts.clearing.clone(),
        to,
        amount: Fen::new(amount),
        kind: TransferKind::MedicalRefund,
        key: format!("settlement:{id}:refund:{part}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn region(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }
    fn policy() -> MedicalPolicy {
        MedicalPolicy {
            region: region("350200"),
            deductible_fen: 80_000,
            ratio_local_bp: 7_000,
            ratio_in_province_bp: 6_500,
            ratio_cross_province_bp: 6_000,
            annual_cap_fen: 1_000_000,
        }
    }

    #[test]
    fn locality_compares_city_then_province() {
        assert_eq!(Locality::of(region("350203"), region("350211")), Locality::Local);
        assert_eq!(Locality::of(region("350200"), region("350100")), Locality::InProvince);
        assert_eq!(Locality::of(region("350200"), region("110000")), Locality::CrossProvince);
    }

    #[test]
    fn worked_example_with_deductible_ratio_account_and_self_pay() {
        // Bill 2000.00 yuan, nothing used yet: 800 deductible, 70% of 1200 = 840 pool,
        // the account (500) pays 500 of the remaining 1160, 660 self-pay.
        let s = split(Fen::new(200_000), &policy(), Locality::Local, YearToDate::default(), Fen::new(50_000)).unwrap();
        assert_eq!((s.pool_fen, s.account_fen, s.self_pay_fen), (84_000, 50_000, 66_000));
        assert_eq!(s.deductible_applied_fen, 80_000);
        // The next bill of the year no longer meets the deductible.
        let ytd = after_settlement(YearToDate::default(), &s);
        let s2 = split(Fen::new(10_000), &policy(), Locality::CrossProvince, ytd, Fen::ZERO).unwrap();
        assert_eq!((s2.pool_fen, s2.account_fen, s2.self_pay_fen, s2.deductible_applied_fen), (6_000, 0, 4_000, 0));
    }

    #[test]
    fn pool_rounds_down_and_the_fen_goes_to_the_holder() {
        let ytd = YearToDate { deductible_used_fen: 80_000, pool_paid_fen: 0 };
        // 70% of 333 fen = 233.1 -> 233.
        let s = split(Fen::new(333), &policy(), Locality::Local, ytd, Fen::ZERO).unwrap();
        assert_eq!((s.pool_fen, s.self_pay_fen), (233, 100));
    }

    #[test]
    fn annual_cap_limits_the_pool() {
        let ytd = YearToDate { deductible_used_fen: 80_000, pool_paid_fen: 990_000 };
        let s = split(Fen::new(100_000), &policy(), Locality::Local, ytd, Fen::new(1_000_000)).unwrap();
        assert_eq!((s.pool_fen, s.account_fen, s.self_pay_fen), (10_000, 90_000, 0));
        let full = YearToDate { deductible_used_fen: 80_000, pool_paid_fen: 1_200_000 };
        assert_eq!(split(Fen::new(100), &policy(), Locality::Local, full, Fen::ZERO).unwrap().pool_fen, 0);
    }

    #[test]
    fn refund_reverses_the_year_to_date_exactly() {
        let s = split(Fen::new(200_000), &policy(), Locality::Local, YearToDate::default(), Fen::ZERO).unwrap();
        let ytd = after_settlement(YearToDate::default(), &s);
        assert_eq!(after_refund(ytd, &s), YearToDate::default());
        assert!(decide_refund(false).is_ok());
        assert_eq!(decide_refund(true).unwrap_err().code, "already_refunded");
    }

    #[test]
    fn bad_bills_and_policies_are_invalid() {
        assert!(split(Fen::ZERO, &policy(), Locality::Local, YearToDate::default(), Fen::ZERO).is_err());
        assert!(split(Fen::new(-1), &policy(), Locality::Local, YearToDate::default(), Fen::ZERO).is_err());
        let mut p = policy();
        p.ratio_local_bp = 10_001;
        assert_eq!(p.validate().unwrap_err().field, Some("ratio_local_bp"));
        assert!(policy().validate().is_ok());
        assert!(check_bill_id("INV-2026-0001").is_ok());
        assert!(check_bill_id("").is_err());
    }

    #[test]
    fn a_region_takes_its_own_policy_else_its_provinces_else_the_default() {
        let (own, province) = policy_regions(region("350203"));
        assert_eq!((own, province), (region("350203"), region("350000")));
        let mut prov = policy();
        prov.region = region("350000");
        let mut city = policy();
        city.region = region("350203");
        city.deductible_fen = 1;
        assert_eq!(choose_policy(region("350203"), vec![prov.clone(), city.clone()]), city);
        assert_eq!(choose_policy(region("350203"), vec![prov.clone()]).region, region("350203"));
        assert_eq!(choose_policy(region("350203"), vec![prov]).deductible_fen, 80_000);
        assert_eq!(choose_policy(region("350203"), vec![]), MedicalPolicy::default_for(region("350203")));
    }

    #[test]
    fn a_repeated_bill_replays_only_with_the_same_details() {
        assert!(judge_repeated_bill("B1", true, true).is_ok());
        assert_eq!(judge_repeated_bill("B1", false, true).unwrap_err().code, "bill_settled");
        assert_eq!(judge_repeated_bill("B1", true, false).unwrap_err().current_state.as_deref(), Some("settled"));
    }

    #[test]
    fn self_pay_comes_from_the_bank_account_or_the_desk() {
        let mut card = crate::terminal::tests::card(crate::card::CardStatus::Active);
        assert_eq!(self_pay_account(&card, "XMH").unwrap().to_string(), "cash:XMH");
        card.pan = Some(crate::ids::Pan::parse("6217000010000000003").unwrap());
        assert_eq!(self_pay_account(&card, "XMH").unwrap().to_string(), "bank:A00000001");
    }

    #[test]
    fn refund_legs_reverse_the_settlement_legs() {
        let card = crate::terminal::tests::card(crate::card::CardStatus::Active);
        let accounts = SettlementAccounts::new(region("350203"), "p1", &card, "XMH").unwrap();
        let s = split(Fen::new(200_000), &policy(), Locality::Local, YearToDate::default(), Fen::new(50_000)).unwrap();
        let paid = settlement_legs("S1", &accounts, &s);
        let back = refund_legs("S1", &accounts, &s);
        assert_eq!(paid.iter().map(|l| l.amount.value()).sum::<i64>(), 200_000);
        assert_eq!(paid[0].key, "settlement:S1:pool");
        assert_eq!(paid[0].from.to_string(), "pool:350203");
        assert_eq!(back[2].key, "settlement:S1:refund:self");
        for (p, b) in paid.iter().zip(&back) {
            assert_eq!((&p.from, &p.to, p.amount), (&b.to, &b.from, b.amount));
            assert_eq!(b.kind, TransferKind::MedicalRefund);
        }
        assert_eq!(
            paid.map(|l| l.kind),
            [TransferKind::MedicalPool, TransferKind::MedicalAccount, TransferKind::MedicalSelfPay]
        );
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_bill(
            bill in 1i64..=Fen::MAX_AMOUNT,
            deductible in 0i64..=10_000_000,
            ratio in 0u32..=10_000,
            cap in 0i64..=100_000_000,
            used in 0i64..=20_000_000,
            paid in 0i64..=200_000_000,
            balance in -10i64..=Fen::MAX_AMOUNT,
        ) {
            let p = MedicalPolicy {
                region: region("350200"), deductible_fen: deductible, ratio_local_bp: ratio,
                ratio_in_province_bp: ratio, ratio_cross_province_bp: ratio, annual_cap_fen: cap,
            };
            let ytd = YearToDate { deductible_used_fen: used, pool_paid_fen: paid };
            let s = split(Fen::new(bill), &p, Locality::Local, ytd, Fen::new(balance)).unwrap();
            prop_assert_eq!(s.pool_fen + s.account_fen + s.self_pay_fen, bill);
            prop_assert!(s.pool_fen >= 0 && s.account_fen >= 0 && s.self_pay_fen >= 0);
            prop_assert!(s.account_fen <= balance.max(0));
            prop_assert!(paid + s.pool_fen <= cap.max(paid));
            // The pool never pays more than r of what is above the deductible.
            prop_assert!(i128::from(s.pool_fen) * 10_000 <= i128::from(bill - s.deductible_applied_fen) * i128::from(ratio));
            let after = after_settlement(ytd, &s);
            prop_assert_eq!(after_refund(after, &s), YearToDate {
                deductible_used_fen: used, pool_paid_fen: paid,
            });
        }
    }
}
