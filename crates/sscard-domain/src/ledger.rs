//! The double-entry ledger, as rules: account kinds, which may go negative,
//! what a transfer is, the idempotency rule, and the books check.
//!
//! Cash: a service point (a bank's desks, the card office's desk, a terminal operator such as
//! a transit top-up point or a hospital) keeps the customer's banknotes, so on the platform's
//! books cash taken in draws down the point's `cash` account, its prepaid **float**: the point
//! pays money in first ([`decide_float_funding`]) and a cash top-up, fee or self-pay it takes
//! can never drive the float below zero ([`decide_float_draw`], `float_exhausted`).
//!
//! Sign convention: an account's balance is the sum of the transfers credited to it minus
//! the sum of those debited from it. A transfer moves a positive amount from one account
//! (debit) to another (credit), so every transfer adds zero to the sum of all balances and
//! that sum is always zero. Account ids are `kind:owner`, e.g. `ewallet:A00000001`,
//! `medical:<person id>`, `pool:350200`, `clearing:<operator code>`.

use crate::application::string_enum;
use crate::error::DomainError;
use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// Longest idempotency key of a transfer.
pub const MAX_TRANSFER_KEY: usize = 160;
/// Longest account owner (card number, person id, region, operator code).
pub const MAX_OWNER: usize = 64;

string_enum!(
    /// What an account is for.
    AccountKind {
        Ewallet => "ewallet", Medical => "medical", Bank => "bank", Pool => "pool", Fees => "fees",
        Payer => "payer", Clearing => "clearing", Cash => "cash",
    }
);

impl AccountKind {
    /// Whether the balance may fall below zero. A holder's e-wallet and medical personal
    /// account hold real money and never go negative. The bank-account mirror records what
    /// moved between the card's bank account and the platform: it goes negative by what the
    /// holder paid in (top-ups, self-pay), as the bank's own books hold the real balance.
    /// A service point's cash account is its prepaid float and stands for real money the point
    /// paid in, so it never goes negative either. The other organisation accounts (pool, fees,
    /// payer, clearing) are the other side of holders' money and may go either way.
    pub fn may_go_negative(&self) -> bool {
        !matches!(self, AccountKind::Ewallet | AccountKind::Medical | AccountKind::Cash)
    }
    /// Whether a decision needs the account's exact balance, read under a lock: every account
    /// that may not go negative, and the holder accounts (per card or person, never a queue).
    pub fn decided_on_balance(&self) -> bool {
        self.is_holder() || !self.may_go_negative()
    }
    /// Accounts that belong to a holder (per card or per person) rather than an organisation.
    pub fn is_holder(&self) -> bool {
        matches!(self, AccountKind::Ewallet | AccountKind::Medical | AccountKind::Bank)
    }
}

string_enum!(
    /// Why money moved.
    TransferKind {
        Topup => "topup", Fare => "fare", MedicalPool => "medical_pool", MedicalAccount => "medical_account",
        MedicalSelfPay => "medical_self_pay", MedicalRefund => "medical_refund", ParkEntry => "park_entry",
        ParkPass => "park_pass", Deposit => "deposit", Fee => "fee", Migration => "migration",
        WalletRefund => "wallet_refund", Benefit => "benefit", Float => "float",
    }
);

/// An account id: `kind:owner`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountId {
    pub kind: AccountKind,
    pub owner: String,
}

impl AccountId {
    pub fn new(kind: AccountKind, owner: impl Into<String>) -> Result<AccountId, DomainError> {
        let owner = owner.into();
        if owner.is_empty() || owner.len() > MAX_OWNER || owner.contains(':') || owner.chars().any(char::is_control) {
            return Err(DomainError::invalid("bad_account", "account", format!("bad account owner {owner:?}")));
        }
        Ok(AccountId { kind, owner })
    }
    pub fn parse(s: &str) -> Result<AccountId, DomainError> {
        let bad = || DomainError::invalid("bad_account", "account", format!("bad account id {s:?}"));
        let (k, o) = s.split_once(':').ok_or_else(bad)?;
        AccountId::new(AccountKind::parse(k).ok_or_else(bad)?, o)
    }
}

/// Accounts order as their text form `kind:owner` does (no kind's text is a prefix of
/// another's), the order they are locked in.
impl Ord for AccountId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.kind.as_str(), self.owner.as_str()).cmp(&(other.kind.as_str(), other.owner.as_str()))
    }
}

impl PartialOrd for AccountId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.owner)
    }
}

/// What a transfer moves: the request, which together with its key decides a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSpec {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Fen,
    pub kind: TransferKind,
}

/// One movement to post: a transfer and its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Fen,
    pub kind: TransferKind,
    /// Unique per movement; a replay with the same key and body moves nothing.
    pub key: String,
}

impl Leg {
    /// What the leg moves, without its key.
    pub fn spec(&self) -> TransferSpec {
        TransferSpec { from: self.from.clone(), to: self.to.clone(), amount: self.amount, kind: self.kind }
    }
}

/// What to do with a transfer whose key may have been seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The key is new: apply it.
    Apply,
    /// The same key with the same body: return the original result, move nothing.
    Replay,
}

/// Check a transfer key: 1..=160 printable ASCII characters.
pub fn check_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.len() > MAX_TRANSFER_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "bad_idempotency_key",
            "idempotency_key",
            format!("an idempotency key is 1..={MAX_TRANSFER_KEY} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// The idempotency rule: same key and same body replays; the same key with a different body is a 409.
pub fn judge_key(existing: Option<&TransferSpec>, new: &TransferSpec) -> Result<KeyVerdict, DomainError> {
    match existing {
        None => Ok(KeyVerdict::Apply),
        Some(old) if old == new => Ok(KeyVerdict::Replay),
        Some(_) => Err(DomainError::conflict(
            "idempotency_mismatch",
            "this idempotency key was already used for a different transfer",
            None,
        )),
    }
}

/// The balances after a transfer, or the refusal: a non-positive amount or one account on both
/// sides is invalid; overdrawing an account that may not go negative is refused (422).
pub fn decide_transfer(spec: &TransferSpec, from_balance: Fen, to_balance: Fen) -> Result<(Fen, Fen), DomainError> {
    let amount = Fen::parse_amount(spec.amount.value())?;
    if spec.from == spec.to {
        return Err(DomainError::invalid("same_account", "account", "a transfer needs two different accounts"));
    }
    let overflow = || DomainError::refused("balance_overflow", "the balance would overflow");
    let from_after = from_balance.checked_sub(amount).ok_or_else(overflow)?;
    let to_after = to_balance.checked_add(amount).ok_or_else(overflow)?;
    if from_after.is_negative() && spec.from.kind == AccountKind::Cash {
        decide_float_draw(&spec.from, from_balance, amount)?;
    }
    if from_after.is_negative() && !spec.from.kind.may_go_negative() {
        return Err(DomainError::refused(
            "insufficient_balance",
            format!("account {} holds {} yuan, {} yuan needed", spec.from, from_balance, amount),
        ));
    }
    Ok((from_after, to_after))
}

/// The owner of the card office's own cash desk (clerks and admins taking cash).
pub const OFFICE_CASH_POINT: &str = "OFFICE";
/// The owner prefix of a partner bank's cash float: `cash:CASH-<bank code>`.
pub const BANK_CASH_PREFIX: &str = "CASH-";
/// The owner prefix of the account a point's float is paid in from: `clearing:FLOAT-<owner>`.
pub const FLOAT_SOURCE_PREFIX: &str = "FLOAT-";
/// The most one funding may pay into a float: 10,000,000 yuan.
pub const MAX_FLOAT_FUNDING_FEN: i64 = 1_000_000_000;

/// A place that takes cash and keeps the banknotes: its `cash` account is its float with the
/// platform, drawn down by every cash top-up, fee and self-pay it takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CashPoint {
    /// The card office's own desk (clerks and admins): `cash:OFFICE`.
    Office,
    /// A partner bank's desks (tellers), one float per bank: `cash:CASH-<bank code>`.
    BankDesk(String),
    /// A terminal operator (a transit top-up point, a hospital): `cash:<operator code>`.
    Operator(String),
}

impl CashPoint {
    /// The point from its float's owner text: `OFFICE`, `CASH-<bank code>` or an operator code.
    pub fn parse_owner(owner: &str) -> Result<CashPoint, DomainError> {
        let point = match owner {
            OFFICE_CASH_POINT => CashPoint::Office,
            o => match o.strip_prefix(BANK_CASH_PREFIX) {
                Some(bank) => CashPoint::BankDesk(bank.to_string()),
                None => CashPoint::Operator(o.to_string()),
            },
        };
        let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match &point {
            CashPoint::BankDesk(code) | CashPoint::Operator(code) if !valid(code) || code.len() > 32 => {
                Err(DomainError::invalid(
                    "bad_cash_point",
                    "owner",
                    format!("owner is OFFICE, CASH-<bank code> or a terminal operator's code, not {owner:?}"),
                ))
            }
            _ => Ok(point),
        }
    }
    /// The point where cash is taken: a terminal's operator, else the teller's bank, else (a
    /// clerk or an admin) the card office's desk.
    pub fn of_desk(terminal_operator: Option<&str>, bank_code: Option<&str>) -> CashPoint {
        match (terminal_operator, bank_code) {
            (Some(op), _) => CashPoint::Operator(op.to_string()),
            (None, Some(bank)) => CashPoint::BankDesk(bank.to_string()),
            (None, None) => CashPoint::Office,
        }
    }
    /// The owner of the point's float account.
    pub fn owner(&self) -> String {
        match self {
            CashPoint::Office => OFFICE_CASH_POINT.to_string(),
            CashPoint::BankDesk(bank) => format!("{BANK_CASH_PREFIX}{bank}"),
            CashPoint::Operator(code) => code.clone(),
        }
    }
    /// The float: the point's `cash` account.
    pub fn float(&self) -> Result<AccountId, DomainError> {
        AccountId::new(AccountKind::Cash, self.owner())
    }
    /// Where the point's money for its float comes from (its own bank, on the platform's books):
    /// a clearing account that goes negative by all the point ever paid in.
    pub fn float_source(&self) -> Result<AccountId, DomainError> {
        AccountId::new(AccountKind::Clearing, format!("{FLOAT_SOURCE_PREFIX}{}", self.owner()))
    }
}

/// The refusal of cash a point's float cannot cover: nothing moves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cash float {account} holds {balance} yuan, {amount} yuan needed: the point pays into its float first")]
pub struct FloatExhausted {
    pub account: String,
    pub balance: Fen,
    pub amount: Fen,
}

impl From<FloatExhausted> for DomainError {
    fn from(e: FloatExhausted) -> Self {
        DomainError::refused("float_exhausted", e.to_string())
    }
}

/// Cash of `amount` taken at a point whose float holds `balance`: the float after it, or the
/// refusal when the float is short (a float never goes negative).
pub fn decide_float_draw(float: &AccountId, balance: Fen, amount: Fen) -> Result<Fen, FloatExhausted> {
    let exhausted = || FloatExhausted { account: float.to_string(), balance, amount };
    match balance.checked_sub(amount) {
        Some(after) if !after.is_negative() => Ok(after),
        _ => Err(exhausted()),
    }
}

/// Money a point paid in for its float: a positive amount of at most
/// [`MAX_FLOAT_FUNDING_FEN`], from the point's float source to its float.
pub fn decide_float_funding(point: &CashPoint, amount_fen: i64) -> Result<TransferSpec, DomainError> {
    let amount = Fen::parse_amount(amount_fen).map_err(|e| DomainError::from(e).with_field("amount_fen"))?;
    if amount.value() > MAX_FLOAT_FUNDING_FEN {
        return Err(DomainError::invalid(
            "bad_amount",
            "amount_fen",
            format!("one funding pays in at most {} yuan", Fen::new(MAX_FLOAT_FUNDING_FEN)),
        ));
    }
    Ok(TransferSpec { from: point.float_source()?, to: point.float()?, amount, kind: TransferKind::Float })
}

/// The transfer key of a float funding: the caller's own key, kept per caller.
pub fn float_key(actor: &str, key: &str) -> String {
    format!("float:{actor}:{key}")
}

/// The idempotency key of moving the e-wallet of card `old` to card `new`: one per pair of cards.
pub fn migration_key(old_card_no: &str, new_card_no: &str) -> String {
    format!("migrate:{old_card_no}:{new_card_no}")
}

/// A card's e-wallet follows the card that replaced it: the whole balance of `old` (the
/// replaced card's wallet) moves to `new` (the wallet of the card activated in its place), or
/// nothing moves when it is empty. Both must be e-wallets of different cards; a negative
/// wallet is a broken ledger, not something to move. The wallet limit of top-ups does not
/// apply: the money is already the holder's.
pub fn decide_wallet_migration(
    old: &AccountId,
    new: &AccountId,
    old_balance: Fen,
) -> Result<Option<TransferSpec>, DomainError> {
    if old.kind != AccountKind::Ewallet || new.kind != AccountKind::Ewallet {
        return Err(DomainError::invalid("bad_account", "account", "only e-wallets follow a replacement card"));
    }
    if old == new {
        return Err(DomainError::invalid("same_account", "account", "a card does not replace itself"));
    }
    if old_balance.is_negative() {
        return Err(DomainError::refused(
            "negative_wallet",
            format!("e-wallet {old} is overdrawn ({old_balance} yuan): check the books"),
        ));
    }
    if old_balance.is_zero() {
        return Ok(None);
    }
    Ok(Some(TransferSpec { from: old.clone(), to: new.clone(), amount: old_balance, kind: TransferKind::Migration }))
}

/// The key of the refund of a card's e-wallet when the card ends: once per card.
pub fn wallet_refund_key(card_no: &str) -> String {
    format!("wallet-refund:{card_no}")
}

/// A card that ends for good (stopped or cancelled) can never be tapped again, so its e-wallet
/// goes back to the holder: the whole balance moves to the mirror of the card's bank account.
/// A card without the financial function (a temporary card) has no bank account: its wallet
/// stays, and follows the formal card when that is activated. An empty wallet moves nothing;
/// a negative one is a broken ledger.
pub fn decide_wallet_refund(
    card_no: &str,
    has_bank_account: bool,
    balance: Fen,
) -> Result<Option<TransferSpec>, DomainError> {
    if balance.is_negative() {
        return Err(DomainError::refused(
            "negative_wallet",
            format!("the e-wallet of card {card_no} is overdrawn ({balance} yuan): check the books"),
        ));
    }
    if !has_bank_account || balance.is_zero() {
        return Ok(None);
    }
    Ok(Some(TransferSpec {
        from: AccountId::new(AccountKind::Ewallet, card_no)?,
        to: AccountId::new(AccountKind::Bank, card_no)?,
        amount: balance,
        kind: TransferKind::WalletRefund,
    }))
}

/// One finding of the books check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Finding {
    /// The balances do not sum to zero.
    SumNotZero { sum: i128 },
    /// A stored balance differs from the sum of its transfers.
    BalanceMismatch { account: String, stored: i64, from_transfers: i128 },
    /// An account that may not go negative is negative.
    Negative { account: String, balance: i64 },
    /// Transfers reference an account that has no balance row.
    UnknownAccount { account: String },
}

/// The books check: `balances` as stored, `movements` the net of the transfers per account
/// (credits minus debits). Sums are taken in i128 so no input can overflow them.
pub fn check_books(balances: &[(String, i64)], movements: &[(String, i128)]) -> Vec<Finding> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    let sum: i128 = balances.iter().map(|(_, b)| i128::from(*b)).sum();
    if sum != 0 {
        out.push(Finding::SumNotZero { sum });
    }
    let moved: BTreeMap<&str, i128> = movements.iter().map(|(a, m)| (a.as_str(), *m)).collect();
    let known: BTreeMap<&str, i64> = balances.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    for (account, stored) in balances {
        let from_transfers = moved.get(account.as_str()).copied().unwrap_or(0);
        if i128::from(*stored) != from_transfers {
            out.push(Finding::BalanceMismatch { account: account.clone(), stored: *stored, from_transfers });
        }
        let forbids = AccountId::parse(account).map(|a| !a.kind.may_go_negative()).unwrap_or(true);
        if *stored < 0 && forbids {
            out.push(Finding::Negative { account: account.clone(), balance: *stored });
        }
    }
    for (account, _) in movements {
        if !known.contains_key(account.as_str()) {
            out.push(Finding::UnknownAccount { account: account.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }
    fn spec(from: &str, to: &str, amount: i64) -> TransferSpec {
        TransferSpec { from: acct(from), to: acct(to), amount: Fen::new(amount), kind: TransferKind::Topup }
    }

    #[test]
    fn accounts_order_as_their_text() {
        let mut ids: Vec<AccountId> =
            ["ewallet:B1", "bank:A9", "cash:OFFICE", "clearing:XMBUS", "ewallet:A1", "medical:p"]
                .iter()
                .map(|s| AccountId::parse(s).unwrap())
                .collect();
        let mut texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        texts.sort();
        assert_eq!(ids.iter().map(ToString::to_string).collect::<Vec<_>>(), texts);
        for a in AccountKind::ALL {
            for b in AccountKind::ALL {
                assert!(a == b || !b.as_str().starts_with(a.as_str()), "{a} is a prefix of {b}");
            }
        }
    }

    #[test]
    fn an_ended_cards_wallet_goes_back_to_its_bank_account() {
        let spec = decide_wallet_refund("A00000001", true, Fen::new(1_234)).unwrap().unwrap();
        assert_eq!((spec.from.to_string(), spec.to.to_string()), ("ewallet:A00000001".into(), "bank:A00000001".into()));
        assert_eq!((spec.amount, spec.kind), (Fen::new(1_234), TransferKind::WalletRefund));
        assert_eq!(decide_wallet_refund("A00000001", true, Fen::new(0)).unwrap(), None);
        assert_eq!(decide_wallet_refund("T00000001", false, Fen::new(500)).unwrap(), None);
        assert_eq!(decide_wallet_refund("A00000001", true, Fen::new(-1)).unwrap_err().code, "negative_wallet");
        assert_eq!(wallet_refund_key("A00000001"), "wallet-refund:A00000001");
    }

    #[test]
    fn account_ids_round_trip() {
        let a = acct("ewallet:A00000001");
        assert_eq!(a.kind, AccountKind::Ewallet);
        assert_eq!(a.to_string(), "ewallet:A00000001");
        assert!(AccountId::parse("wallet:x").is_err());
        assert!(AccountId::parse("ewallet:").is_err());
        assert!(AccountId::parse("ewallet").is_err());
    }

    #[test]
    fn wallets_cannot_be_overdrawn_but_organisations_can() {
        let s = spec("ewallet:A00000001", "clearing:BUS", 200);
        assert_eq!(decide_transfer(&s, Fen::new(200), Fen::ZERO).unwrap(), (Fen::ZERO, Fen::new(200)));
        let e = decide_transfer(&s, Fen::new(199), Fen::ZERO).unwrap_err();
        assert_eq!(e.code, "insufficient_balance");
        let s = spec("bank:A00000001", "ewallet:A00000001", 5000);
        assert_eq!(decide_transfer(&s, Fen::ZERO, Fen::ZERO).unwrap(), (Fen::new(-5000), Fen::new(5000)));
        assert_eq!(
            decide_transfer(&spec("pool:350200", "medical:p", 0), Fen::ZERO, Fen::ZERO).unwrap_err().code,
            "bad_amount"
        );
        assert_eq!(
            decide_transfer(&spec("pool:350200", "pool:350200", 1), Fen::ZERO, Fen::ZERO).unwrap_err().code,
            "same_account"
        );
    }

    #[test]
    fn same_key_same_body_replays_different_body_conflicts() {
        let a = spec("bank:A00000001", "ewallet:A00000001", 100);
        assert_eq!(judge_key(None, &a).unwrap(), KeyVerdict::Apply);
        assert_eq!(judge_key(Some(&a), &a).unwrap(), KeyVerdict::Replay);
        let b = spec("bank:A00000001", "ewallet:A00000001", 101);
        let e = judge_key(Some(&a), &b).unwrap_err();
        assert_eq!((e.kind, e.code), (crate::error::ErrorKind::Conflict, "idempotency_mismatch"));
        assert!(check_key("topup-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("with space").is_err());
    }

    #[test]
    fn a_replaced_cards_wallet_moves_whole_to_the_new_card() {
        let (old, new) = (acct("ewallet:A00000001"), acct("ewallet:A00000002"));
        let s = decide_wallet_migration(&old, &new, Fen::new(1234)).unwrap().unwrap();
        assert_eq!(
            (s.from, s.to, s.amount, s.kind),
            (old.clone(), new.clone(), Fen::new(1234), TransferKind::Migration)
        );
        assert_eq!(decide_wallet_migration(&old, &new, Fen::ZERO).unwrap(), None);
        assert_eq!(decide_wallet_migration(&old, &new, Fen::new(-1)).unwrap_err().code, "negative_wallet");
        assert_eq!(decide_wallet_migration(&old, &old, Fen::new(1)).unwrap_err().code, "same_account");
        assert_eq!(
            decide_wallet_migration(&acct("bank:A00000001"), &new, Fen::new(1)).unwrap_err().code,
            "bad_account"
        );
        // The whole balance, even when the two wallets together pass the top-up limit.
        let over = crate::transit::MAX_WALLET_FEN;
        let all = decide_wallet_migration(&old, &new, Fen::new(over)).unwrap().unwrap();
        assert_eq!(decide_transfer(&all, Fen::new(over), Fen::new(over)).unwrap(), (Fen::ZERO, Fen::new(2 * over)));
        assert_eq!(migration_key("A00000001", "A00000002"), "migrate:A00000001:A00000002");
        assert!(check_key(&migration_key("A00000001", "A00000002")).is_ok());
    }

    #[test]
    fn books_check_finds_every_kind_of_problem() {
        let ok = vec![("bank:A00000001".to_string(), -100), ("ewallet:A00000001".to_string(), 100)];
        let mv = vec![("bank:A00000001".to_string(), -100i128), ("ewallet:A00000001".to_string(), 100)];
        assert!(check_books(&ok, &mv).is_empty());
        let bad = vec![("bank:A00000001".to_string(), -100), ("ewallet:A00000001".to_string(), 90)];
        let f = check_books(&bad, &mv);
        assert!(f.contains(&Finding::SumNotZero { sum: -10 }));
        assert!(matches!(f[1], Finding::BalanceMismatch { .. }));
        let neg = vec![("ewallet:A00000001".to_string(), -5), ("pool:350200".to_string(), 5)];
        let mv =
            vec![("ewallet:A00000001".to_string(), -5i128), ("pool:350200".to_string(), 5), ("x:y".to_string(), 0)];
        let f = check_books(&neg, &mv);
        assert!(f.contains(&Finding::Negative { account: "ewallet:A00000001".into(), balance: -5 }));
        assert!(f.contains(&Finding::UnknownAccount { account: "x:y".into() }));
    }

    #[test]
    fn cash_floats_never_go_negative() {
        assert!(!AccountKind::Cash.may_go_negative());
        assert!(AccountKind::Cash.decided_on_balance() && AccountKind::Bank.decided_on_balance());
        assert!(!AccountKind::Clearing.decided_on_balance() && !AccountKind::Pool.decided_on_balance());
        let float = acct("cash:CASH-CCB");
        assert_eq!(decide_float_draw(&float, Fen::new(5000), Fen::new(5000)), Ok(Fen::ZERO));
        let e = decide_float_draw(&float, Fen::new(4999), Fen::new(5000)).unwrap_err();
        assert_eq!((e.balance, e.amount, e.account.as_str()), (Fen::new(4999), Fen::new(5000), "cash:CASH-CCB"));
        let d = DomainError::from(e);
        assert_eq!((d.kind, d.code), (crate::error::ErrorKind::Refused, "float_exhausted"));
        assert!(d.message.contains("49.99") && d.message.contains("50.00"), "{}", d.message);
        // Through the one transfer rule: a top-up or fee the float cannot cover is refused.
        let topup = spec("cash:CASH-CCB", "ewallet:A00000001", 5000);
        assert_eq!(decide_transfer(&topup, Fen::new(4999), Fen::ZERO).unwrap_err().code, "float_exhausted");
        assert_eq!(decide_transfer(&topup, Fen::new(5000), Fen::ZERO).unwrap(), (Fen::ZERO, Fen::new(5000)));
        // The books check flags a negative cash account, whatever its row says.
        let books = vec![("cash:XMBUS".to_string(), -1), ("ewallet:A00000001".to_string(), 1)];
        let moved = vec![("cash:XMBUS".to_string(), -1i128), ("ewallet:A00000001".to_string(), 1)];
        assert_eq!(check_books(&books, &moved), vec![Finding::Negative { account: "cash:XMBUS".into(), balance: -1 }]);
    }

    #[test]
    fn a_point_pays_into_its_float_from_its_own_source() {
        let bank = CashPoint::parse_owner("CASH-CCB").unwrap();
        assert_eq!(bank, CashPoint::BankDesk("CCB".into()));
        let s = decide_float_funding(&bank, 100_000).unwrap();
        assert_eq!((s.from.to_string(), s.to.to_string()), ("clearing:FLOAT-CASH-CCB".into(), "cash:CASH-CCB".into()));
        assert_eq!((s.amount, s.kind), (Fen::new(100_000), TransferKind::Float));
        assert!(s.from.kind.may_go_negative());
        assert_eq!(CashPoint::parse_owner("OFFICE").unwrap().float().unwrap().to_string(), "cash:OFFICE");
        assert_eq!(CashPoint::parse_owner("XMBUS").unwrap(), CashPoint::Operator("XMBUS".into()));
        for bad in ["", "CASH-", "a b", "XM:BUS", "CASH-C:B", &"X".repeat(33)] {
            assert_eq!(CashPoint::parse_owner(bad).unwrap_err().field, Some("owner"), "{bad:?}");
        }
        for bad in [0, -1, MAX_FLOAT_FUNDING_FEN + 1] {
            assert_eq!(decide_float_funding(&bank, bad).unwrap_err().field, Some("amount_fen"), "{bad}");
        }
        assert!(decide_float_funding(&bank, MAX_FLOAT_FUNDING_FEN).is_ok());
        assert_eq!(CashPoint::of_desk(Some("XMBUS"), Some("CCB")), CashPoint::Operator("XMBUS".into()));
        assert_eq!(CashPoint::of_desk(None, Some("CCB")).owner(), "CASH-CCB");
        assert_eq!(CashPoint::of_desk(None, None), CashPoint::Office);
        assert!(check_key(&float_key("clerk", "k-1")).is_ok());
    }

    proptest! {
        /// Any sequence of accepted transfers keeps the sum zero, keeps wallets non-negative,
        /// and the balances equal the net of the transfers.
        #[test]
        fn transfers_keep_the_books_balanced(moves in proptest::collection::vec((0usize..4, 0usize..4, 1i64..100_000), 0..200)) {
            let names = ["bank:A00000001", "ewallet:A00000001", "clearing:BUS", "medical:p1"];
            let mut bal = [0i64; 4];
            let mut net = [0i128; 4];
            for (f, t, amt) in moves {
                let s = spec(names[f], names[t], amt);
                if let Ok((fa, ta)) = decide_transfer(&s, Fen::new(bal[f]), Fen::new(bal[t])) {
                    bal[f] = fa.value();
                    bal[t] = ta.value();
                    net[f] -= i128::from(amt);
                    net[t] += i128::from(amt);
                }
            }
            prop_assert_eq!(bal.iter().sum::<i64>(), 0);
            prop_assert!(bal[1] >= 0 && bal[3] >= 0);
            let balances: Vec<(String, i64)> = names.iter().map(|n| n.to_string()).zip(bal).collect();
            let movements: Vec<(String, i128)> = names.iter().map(|n| n.to_string()).zip(net).collect();
            prop_assert!(check_books(&balances, &movements).is_empty());
        }
    }
}
