//! Transit: the e-wallet's top-up rules, fares with a resident price, and the
//! rules for offline batches that gates upload later.
//!
//! An offline transaction is identified by (terminal, sequence number) and applied at most once.
//! It is refused, with its reason, when the card was already unusable at the transaction's
//! time (a gate offline could not know), when the wallet would go negative, or when its time
//! is implausible. A card revoked only after the tap was usable when the gate accepted it.

use crate::application::string_enum;
use crate::card::{Card, CardStatus};
use crate::clock::china_date;
use crate::error::DomainError;
use crate::ids::{CardNo, RegionCode};
use crate::ledger::{AccountId, AccountKind, CashPoint};
use crate::money::Fen;
use crate::refusal::Refusal;
use crate::terminal::refusal_at;
use serde::{Deserialize, Serialize};

/// Largest fare of one ride: 100 yuan.
pub const MAX_FARE_FEN: i64 = 10_000;
/// Largest e-wallet balance: 1,000 yuan (a small-value wallet).
pub const MAX_WALLET_FEN: i64 = 100_000;
/// Most transactions in one offline batch.
pub const MAX_BATCH: usize = 10_000;
/// How far in the future a gate's clock may be, in milliseconds: 5 minutes.
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;
/// How old an offline transaction may be when uploaded: 30 days.
pub const MAX_OFFLINE_AGE_MS: i64 = 30 * 86_400_000;

string_enum!(
    /// Where a top-up comes from: `bank`, the holder moves money from the card's bank account
    /// (needs the financial function); `cash`, paid at a service point.
    TopupSource { Bank => "bank", Cash => "cash" }
);
string_enum!(
    /// What became of a recorded tap: the fare was charged, or the tap was refused (with its reason).
    TapStatus { Applied => "applied", Refused => "refused" }
);
string_enum!(
    /// What became of one line of an offline batch: applied or refused now, or a duplicate of a
    /// line uploaded before (its reason then tells the first outcome).
    LineStatus { Applied => "applied", Refused => "refused", Duplicate => "duplicate" }
);

/// The accounts of a top-up of `card_no`'s e-wallet: from the card's bank account, or from the
/// float of the cash point that took the cash (the terminal's operator, the teller's bank, the
/// card office's desk), to the card's e-wallet.
pub fn topup_accounts(
    source: TopupSource,
    card_no: &CardNo,
    point: &CashPoint,
) -> Result<(AccountId, AccountId), DomainError> {
    let from = match source {
        TopupSource::Bank => AccountId::new(AccountKind::Bank, card_no.as_str())?,
        TopupSource::Cash => point.float()?,
    };
    Ok((from, AccountId::new(AccountKind::Ewallet, card_no.as_str())?))
}

/// A top-up of `amount` onto a wallet holding `balance`: positive, and the wallet stays within
/// [`MAX_WALLET_FEN`]; a bank top-up needs the card's bank account (temporary cards have none).
pub fn decide_topup(amount: Fen, balance: Fen, source: TopupSource, has_bank_account: bool) -> Result<(), DomainError> {
    let amount = Fen::parse_amount(amount.value())?;
    if source == TopupSource::Bank && !has_bank_account {
        return Err(DomainError::refused(
            "no_financial_function",
            "this card has no bank account (a temporary card): top up with cash",
        ));
    }
    match balance.checked_add(amount) {
        Some(after) if after.value() <= MAX_WALLET_FEN => Ok(()),
        _ => Err(DomainError::refused(
            "wallet_limit",
            format!("the e-wallet may hold at most {} yuan; it holds {}", Fen::new(MAX_WALLET_FEN), balance),
        )),
    }
}

/// A gate's fare: the full fare and, where the operator has one, the resident fare. Both are
/// 0..=100 yuan and the resident fare does not exceed the full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fare {
    pub full: Fen,
    pub resident: Option<Fen>,
}

impl Fare {
    /// The fare from a request's fields, refused naming `fare_fen` or `resident_fare_fen`.
    pub fn parse(fare_fen: i64, resident_fare_fen: Option<i64>) -> Result<Fare, DomainError> {
        if !(0..=MAX_FARE_FEN).contains(&fare_fen) {
            return Err(DomainError::invalid("bad_fare", "fare_fen", format!("fare_fen must be 0..={MAX_FARE_FEN}")));
        }
        match resident_fare_fen {
            Some(r) if !(0..=fare_fen).contains(&r) => Err(DomainError::invalid(
                "bad_fare",
                "resident_fare_fen",
                "resident_fare_fen must be between 0 and fare_fen",
            )),
            r => Ok(Fare { full: Fen::new(fare_fen), resident: r.map(Fen::new) }),
        }
    }

    /// The fare to charge: the resident fare when there is one and the holder is insured in
    /// the operator's city (same first four digits), else the full fare.
    pub fn charge(&self, operator_region: RegionCode, insured_region: RegionCode) -> Fen {
        match self.resident {
            Some(r) if operator_region.code() / 100 == insured_region.code() / 100 => r,
            _ => self.full,
        }
    }
}

/// [`Fare::parse`] then [`Fare::charge`], for offline lines whose fields are judged line by line.
pub fn fare_for(
    fare: i64,
    resident_fare: Option<i64>,
    operator_region: RegionCode,
    insured_region: RegionCode,
) -> Result<Fen, DomainError> {
    Ok(Fare::parse(fare, resident_fare)?.charge(operator_region, insured_region))
}

/// Check a fare debit against the wallet: refused when it would overdraw it.
pub fn decide_fare(fare: Fen, balance: Fen) -> Result<Fen, DomainError> {
    match balance.checked_sub(fare) {
        Some(after) if !after.is_negative() => Ok(after),
        _ => Err(DomainError::refused(
            Refusal::InsufficientBalance.as_str(),
            format!("the e-wallet holds {balance} yuan, the fare is {fare} yuan"),
        )),
    }
}

/// Shape checks of one batch: bounded size, sequence numbers positive and unique within it.
pub fn check_batch(seqs: &[i64]) -> Result<(), DomainError> {
    if seqs.is_empty() || seqs.len() > MAX_BATCH {
        return Err(DomainError::invalid(
            "bad_batch",
            "transactions",
            format!("a batch holds 1..={MAX_BATCH} transactions"),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(seqs.len());
    for s in seqs {
        if *s <= 0 {
            return Err(DomainError::invalid("bad_seq", "seq", "sequence numbers start at 1"));
        }
        if !seen.insert(*s) {
            return Err(DomainError::invalid("duplicate_seq", "seq", format!("sequence number {s} appears twice")));
        }
    }
    Ok(())
}

/// Whether an offline transaction's time is plausible when uploaded at `now_ms`.
pub fn check_offline_time(at_ms: i64, now_ms: i64) -> Result<(), Refusal> {
    if at_ms > now_ms + MAX_CLOCK_AHEAD_MS {
        Err(Refusal::TimeInFuture)
    } else if at_ms < now_ms - MAX_OFFLINE_AGE_MS {
        Err(Refusal::TooOld)
    } else {
        Ok(())
    }
}

/// The card whose e-wallet pays an offline tap of `tapped`: its own, or, once the card has been
/// replaced (its balance moved to the replacement when that was activated), the holder's live
/// card (`live`), where the money is now.
pub fn paying_card<'a>(tapped: &'a Card, live: Option<&'a Card>) -> &'a Card {
    match live {
        Some(l) if tapped.status == CardStatus::Replaced && l.card_no != tapped.card_no => l,
        _ => tapped,
    }
}

/// One offline transaction as the gate recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflineLine {
    pub at_ms: i64,
    pub fare_fen: i64,
    pub resident_fare_fen: Option<i64>,
}

/// The holder behind an offline line, with what judging the line needs: where they are
/// insured, the card tapped and its history of states (oldest first), and the balance of the
/// e-wallet that pays (see [`paying_card`]).
#[derive(Debug, Clone, Copy)]
pub struct LineHolder<'a> {
    pub insured_region: RegionCode,
    pub card: &'a Card,
    pub history: &'a [(i64, CardStatus)],
    pub wallet: Fen,
}

/// Judges one new line of an offline batch uploaded at `now_ms` to a gate of an operator in
/// `operator_region`: the fare to charge, or the reason it is refused. In order: a plausible
/// time, a holder behind the presentation (`holder` carries the lookup's reason otherwise), a
/// card usable at the line's time (not yet revoked, not expired), a well-formed fare, and a
/// wallet that covers it.
pub fn judge_line(
    line: &OfflineLine,
    now_ms: i64,
    operator_region: RegionCode,
    holder: Result<LineHolder<'_>, Refusal>,
) -> Result<Fen, Refusal> {
    check_offline_time(line.at_ms, now_ms)?;
    let h = holder?;
    if let Some(reason) = refusal_at(h.card, h.history, line.at_ms) {
        return Err(reason);
    }
    if h.card.expires_on < china_date(line.at_ms) {
        return Err(Refusal::CardExpired);
    }
    let fare = fare_for(line.fare_fen, line.resident_fare_fen, operator_region, h.insured_region)
        .map_err(|_| Refusal::BadFare)?;
    decide_fare(fare, h.wallet).map_err(|_| Refusal::InsufficientBalance)?;
    Ok(fare)
}

/// The reason answered for a line uploaded again: its first outcome (`already_applied`, or
/// `already_refused:<first reason>`).
pub fn duplicate_reason(first: TapStatus, first_reason: Option<&str>) -> String {
    match first {
        TapStatus::Applied => "already_applied".to_string(),
        TapStatus::Refused => format!("already_refused:{}", first_reason.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn residents_pay_the_resident_fare() {
        // Xiamen ferry: 35 yuan, 8 yuan for citizens insured in Xiamen.
        assert_eq!(fare_for(3500, Some(800), r("350200"), r("350203")).unwrap(), Fen::new(800));
        assert_eq!(fare_for(3500, Some(800), r("350200"), r("350100")).unwrap(), Fen::new(3500));
        assert_eq!(fare_for(200, None, r("350200"), r("350200")).unwrap(), Fen::new(200));
        assert_eq!(fare_for(200, Some(300), r("350200"), r("350200")).unwrap_err().field, Some("resident_fare_fen"));
        assert_eq!(fare_for(-1, None, r("350200"), r("350200")).unwrap_err().code, "bad_fare");
        assert!(fare_for(MAX_FARE_FEN + 1, None, r("350200"), r("350200")).is_err());
    }

    #[test]
    fn topups_stay_within_the_wallet_limit() {
        assert!(decide_topup(Fen::new(5000), Fen::ZERO, TopupSource::Bank, true).is_ok());
        assert_eq!(
            decide_topup(Fen::new(5000), Fen::ZERO, TopupSource::Bank, false).unwrap_err().code,
            "no_financial_function"
        );
        assert!(decide_topup(Fen::new(5000), Fen::ZERO, TopupSource::Cash, false).is_ok());
        assert!(decide_topup(Fen::new(1), Fen::new(MAX_WALLET_FEN - 1), TopupSource::Cash, true).is_ok());
        assert_eq!(
            decide_topup(Fen::new(2), Fen::new(MAX_WALLET_FEN - 1), TopupSource::Cash, true).unwrap_err().code,
            "wallet_limit"
        );
        assert!(decide_topup(Fen::ZERO, Fen::ZERO, TopupSource::Cash, true).is_err());
    }

    #[test]
    fn fares_never_overdraw() {
        assert_eq!(decide_fare(Fen::new(200), Fen::new(200)).unwrap(), Fen::ZERO);
        assert_eq!(decide_fare(Fen::new(201), Fen::new(200)).unwrap_err().code, "insufficient_balance");
        assert_eq!(decide_fare(Fen::ZERO, Fen::ZERO).unwrap(), Fen::ZERO);
    }

    #[test]
    fn batches_are_bounded_and_unique() {
        assert!(check_batch(&[1, 2, 3]).is_ok());
        assert_eq!(check_batch(&[]).unwrap_err().code, "bad_batch");
        assert_eq!(check_batch(&[1, 2, 1]).unwrap_err().code, "duplicate_seq");
        assert_eq!(check_batch(&[0]).unwrap_err().code, "bad_seq");
        assert!(check_batch(&vec![1; MAX_BATCH + 1]).is_err());
        let now = 1_000_000_000_000;
        assert_eq!(check_offline_time(now, now), Ok(()));
        assert_eq!(check_offline_time(now + MAX_CLOCK_AHEAD_MS + 1, now), Err(Refusal::TimeInFuture));
        assert_eq!(check_offline_time(now - MAX_OFFLINE_AGE_MS - 1, now), Err(Refusal::TooOld));
    }

    #[test]
    fn topups_come_from_the_bank_account_or_the_cash_desk() {
        let no = CardNo::parse("A00000001").unwrap();
        let bus = CashPoint::Operator("XMBUS".into());
        let (from, to) = topup_accounts(TopupSource::Bank, &no, &bus).unwrap();
        assert_eq!((from.to_string(), to.to_string()), ("bank:A00000001".into(), "ewallet:A00000001".into()));
        let (from, _) = topup_accounts(TopupSource::Cash, &no, &bus).unwrap();
        assert_eq!(from.to_string(), "cash:XMBUS");
        let (from, _) = topup_accounts(TopupSource::Cash, &no, &CashPoint::BankDesk("CCB".into())).unwrap();
        assert_eq!(from.to_string(), "cash:CASH-CCB");
        let (from, _) = topup_accounts(TopupSource::Cash, &no, &CashPoint::Office).unwrap();
        assert_eq!(from.to_string(), "cash:OFFICE");
    }

    fn h(card: &Card, wallet: i64) -> Result<LineHolder<'_>, Refusal> {
        Ok(LineHolder { insured_region: r("350203"), card, history: &[], wallet: Fen::new(wallet) })
    }

    fn line(at_ms: i64, fare_fen: i64) -> OfflineLine {
        OfflineLine { at_ms, fare_fen, resident_fare_fen: Some(100) }
    }

    #[test]
    fn offline_lines_are_judged_at_their_own_time() {
        let now = 1_800_000_000_000;
        let mut card = crate::terminal::tests::card(CardStatus::Active);
        let (xiamen, fuzhou) = (r("350200"), r("350100"));
        // Applied, at the resident fare for a Xiamen holder at a Xiamen gate, the full one elsewhere.
        assert_eq!(judge_line(&line(now - 1000, 200), now, xiamen, h(&card, 500)), Ok(Fen::new(100)));
        assert_eq!(judge_line(&line(now - 1000, 200), now, fuzhou, h(&card, 500)), Ok(Fen::new(200)));
        // Refused: time, holder, fare, wallet.
        assert_eq!(
            judge_line(&line(now + MAX_CLOCK_AHEAD_MS + 1, 200), now, xiamen, h(&card, 500)),
            Err(Refusal::TimeInFuture)
        );
        assert_eq!(judge_line(&line(now, 200), now, xiamen, Err(Refusal::UnknownCard)), Err(Refusal::UnknownCard));
        assert_eq!(judge_line(&line(now, -5), now, xiamen, h(&card, 500)), Err(Refusal::BadFare));
        assert_eq!(judge_line(&line(now, 200), now, fuzhou, h(&card, 199)), Err(Refusal::InsufficientBalance));
        // A card lost after the tap was usable then; lost before it, it was not.
        card.status = CardStatus::Lost;
        card.status_changed_at_ms = now - 500;
        assert_eq!(judge_line(&line(now - 1000, 200), now, xiamen, h(&card, 500)), Ok(Fen::new(100)));
        assert_eq!(judge_line(&line(now - 100, 200), now, xiamen, h(&card, 500)), Err(Refusal::CardLost));
        // Expired on the day of the tap.
        card.status = CardStatus::Active;
        card.expires_on = crate::clock::china_date(now) - time::Duration::days(1);
        assert_eq!(judge_line(&line(now, 200), now, xiamen, h(&card, 500)), Err(Refusal::CardExpired));
    }

    #[test]
    fn a_duplicate_line_tells_its_first_outcome() {
        assert_eq!(duplicate_reason(TapStatus::Applied, None), "already_applied");
        assert_eq!(duplicate_reason(TapStatus::Refused, Some("card_lost")), "already_refused:card_lost");
        assert_eq!(LineStatus::parse("duplicate"), Some(LineStatus::Duplicate));
        assert_eq!(serde_json::to_string(&LineStatus::Applied).unwrap(), "\"applied\"");
    }

    proptest! {
        /// Replaying any stream of top-ups and fares keeps the wallet within 0..=MAX and the
        /// balance equal to accepted top-ups minus accepted fares.
        #[test]
        fn wallet_stays_in_bounds(ops in proptest::collection::vec((any::<bool>(), 0i64..60_000), 0..300)) {
            let mut bal = Fen::ZERO;
            let (mut ins, mut outs) = (0i64, 0i64);
            for (topup, amt) in ops {
                if topup {
                    if decide_topup(Fen::new(amt), bal, TopupSource::Cash, true).is_ok() {
                        bal = bal.checked_add(Fen::new(amt)).unwrap();
                        ins += amt;
                    }
                } else if let Ok(after) = decide_fare(Fen::new(amt % (MAX_FARE_FEN + 1)), bal) {
                    outs += bal.value() - after.value();
                    bal = after;
                }
                prop_assert!(bal.value() >= 0 && bal.value() <= MAX_WALLET_FEN);
            }
            prop_assert_eq!(bal.value(), ins - outs);
        }
    }
}
