//! Cross-province medical settlement (跨省异地就医直接结算, DESIGN §7.1, docs/NATION.md).
//!
//! A hospital of deployment A settles a bill of a person whose card deployment B issued. B
//! decides: its own regional policy splits the bill ([`crate::medical::split`]) and the pool and
//! personal-account parts move in B's ledger to `clearing:NATION-<A>` ([`legs_at_decider`]).
//! A records the self-pay and the hospital's receivable in its own ledger, the receivable against
//! `clearing:NATION-<B>` ([`legs_at_origin`]). The hub keeps one clearing entry per bill
//! (payer B, payee A, the pool and account parts) and nets them per day and pair
//! ([`net_per_day`]); every entry is a debit of the payer and a credit of the payee, so the
//! hub's positions sum to zero ([`positions`]). A refund runs the same way back.
//!
//! The bill id is the key end to end: A, the hub and B each keep it with the bill's body; the
//! same body again answers the first result, another body under the same id is a 409
//! ([`judge_repeated`]).
use super::hub::DeploymentInfo;
use super::wire::DeploymentCode;
use crate::error::DomainError;
use crate::ids::{CardIdCode, RegionCode};
use crate::ledger::{AccountId, AccountKind, Leg, TransferKind};
use crate::medical::{Split, check_bill_id};
use crate::money::Fen;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The owner prefix of the account a deployment keeps for what another deployment owes it or is
/// owed by it: `clearing:NATION-<code>`.
pub const NATION_CLEARING_PREFIX: &str = "NATION-";
/// Longest e-card QR token carried along (the local tokens are a few hundred bytes).
pub const MAX_QR_CHARS: usize = 2048;
/// Longest hospital (operator) code carried along.
pub const MAX_OPERATOR_CHARS: usize = 32;

/// The clearing account one deployment keeps for deployment `code`.
pub fn nation_clearing(code: &DeploymentCode) -> Result<AccountId, DomainError> {
    AccountId::new(AccountKind::Clearing, format!("{NATION_CLEARING_PREFIX}{code}"))
}

/// How the patient's card was presented at the hospital's terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Presented {
    /// The e-card QR; its key id names the issuing deployment in the national trust list.
    Qr { token: String, key_id: i64 },
    /// The card identification code (卡识别码); its 6-digit prefix names the issuing region.
    CardIdCode { code: CardIdCode },
}

/// A bill of a person of another deployment, as the hospital's deployment forwards it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteBill {
    pub bill_id: String,
    pub amount_fen: i64,
    /// The hospital: the operator code of the medical terminal at the origin deployment.
    pub hospital: String,
    /// The hospital's region, which decides the locality under the insured region's policy.
    pub institution_region: RegionCode,
    pub presented: Presented,
}

impl RemoteBill {
    /// The bill's own fields: the bill id and amount as a local settlement checks them, a
    /// hospital code and a QR of bounded length.
    pub fn check(&self) -> Result<Fen, DomainError> {
        check_bill_id(&self.bill_id)?;
        let amount = Fen::parse_amount(self.amount_fen).map_err(|e| DomainError::from(e).with_field("amount_fen"))?;
        check_hospital(&self.hospital)?;
        if let Presented::Qr { token, key_id } = &self.presented
            && (token.is_empty() || token.len() > MAX_QR_CHARS || *key_id <= 0)
        {
            return Err(DomainError::invalid("bad_forward", "qr", "a QR token is 1-2048 characters with its key id"));
        }
        Ok(amount)
    }

    /// The operator code the deciding deployment keeps the settlement under: the origin and the
    /// hospital, so bill ids of two hospitals (or two deployments) never meet.
    pub fn remote_operator(&self, from: &DeploymentCode) -> String {
        format!("{from}/{}", self.hospital)
    }
}

/// A hospital (operator) code as carried between deployments: 1-32 letters, digits or '-'.
pub fn check_hospital(h: &str) -> Result<(), DomainError> {
    if h.is_empty() || h.len() > MAX_OPERATOR_CHARS || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(DomainError::invalid("bad_forward", "hospital", "a hospital code is 1-32 letters, digits or '-'"));
    }
    Ok(())
}

/// The deployment that decides a bill: the owner of the QR's key (looked up by the caller in the
/// national trust list), or the deployment serving the card identification code's region.
pub fn decider(
    presented: &Presented,
    key_owner: Option<&DeploymentCode>,
    deployments: &[DeploymentInfo],
) -> Result<DeploymentCode, DomainError> {
    match presented {
        Presented::Qr { key_id, .. } => key_owner
            .cloned()
            .ok_or_else(|| DomainError::refused("unknown_key", format!("no deployment owns key {key_id}"))),
        Presented::CardIdCode { code } => {
            let region = code.region().to_string();
            super::forward::serving(&region, deployments).ok_or_else(|| {
                DomainError::refused("no_deployment_for_region", format!("no deployment serves region {region}"))
            })
        }
    }
}

/// A bill is settled elsewhere only for another deployment's card: a deployment never forwards
/// to itself (its own persons settle locally).
pub fn decide_forward(own: &DeploymentCode, decider: &DeploymentCode) -> Result<(), DomainError> {
    if own == decider {
        Err(DomainError::refused("not_remote", "the card is this deployment's own; settle it locally"))
    } else {
        Ok(())
    }
}

/// The same bill id again (at the origin, the hub or the decider): the same body answers the
/// first result (`Ok`), another body is a 409.
pub fn judge_repeated(bill_id: &str, first: &RemoteBill, again: &RemoteBill) -> Result<(), DomainError> {
    if first == again {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "bill_settled",
            format!("bill {bill_id} was already settled with other details"),
            Some("settled".into()),
        ))
    }
}

/// What the deciding deployment answers: its split and the card's bank function (the origin
/// takes the self-pay from the card's bank account, or in cash at the hospital's desk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub split: Split,
    pub has_bank_account: bool,
}

impl Decided {
    /// What the decider owes the hospital's deployment: the pool and the account parts.
    pub fn owed_fen(&self) -> i64 {
        self.split.pool_fen + self.split.account_fen
    }
}

fn leg(from: AccountId, to: AccountId, amount: i64, kind: TransferKind, key: String) -> Leg {
    Leg { from, to, amount: Fen::new(amount), kind, key }
}

/// At the decider: the pool part from its pool and the account part from the holder's medical
/// account, both to `clearing:NATION-<origin>` (zero parts are skipped when posted). `refund`
/// reverses them.
pub fn legs_at_decider(
    id: &str,
    origin: &DeploymentCode,
    pool: &AccountId,
    account: &AccountId,
    split: &Split,
    refund: bool,
) -> Result<[Leg; 2], DomainError> {
    let clearing = nation_clearing(origin)?;
    let parts = [
        (pool, split.pool_fen, TransferKind::MedicalPool, "pool"),
        (account, split.account_fen, TransferKind::MedicalAccount, "account"),
    ];
    Ok(parts.map(|(acct, amount, kind, part)| match refund {
        false => leg(acct.clone(), clearing.clone(), amount, kind, format!("settlement:{id}:{part}")),
        true => leg(
            clearing.clone(),
            acct.clone(),
            amount,
            TransferKind::MedicalRefund,
            format!("settlement:{id}:refund:{part}"),
        ),
    }))
}

/// The account the origin takes the self-pay from: the card's bank account, or cash at the
/// hospital's desk for a card without the financial function.
pub fn origin_self_pay_account(
    card_no: &str,
    has_bank_account: bool,
    hospital: &str,
) -> Result<AccountId, DomainError> {
    match has_bank_account {
        true => AccountId::new(AccountKind::Bank, card_no),
        false => AccountId::new(AccountKind::Cash, hospital),
    }
}

/// At the origin: the hospital's receivable from the decider (`clearing:NATION-<decider>` to
/// `clearing:<hospital>`, the pool and account parts) and the self-pay to the hospital. `refund`
/// reverses them.
pub fn legs_at_origin(
    id: &str,
    decider: &DeploymentCode,
    hospital: &str,
    self_pay_from: &AccountId,
    d: &Decided,
    refund: bool,
) -> Result<[Leg; 2], DomainError> {
    let (nation, clearing) = (nation_clearing(decider)?, AccountId::new(AccountKind::Clearing, hospital)?);
    let parts = [
        (nation, d.owed_fen(), TransferKind::MedicalPool, "remote"),
        (self_pay_from.clone(), d.split.self_pay_fen, TransferKind::MedicalSelfPay, "self"),
    ];
    Ok(parts.map(|(acct, amount, kind, part)| match refund {
        false => leg(acct, clearing.clone(), amount, kind, format!("settlement:{id}:{part}")),
        true => {
            leg(clearing.clone(), acct, amount, TransferKind::MedicalRefund, format!("settlement:{id}:refund:{part}"))
        }
    }))
}

/// Whether a settlement may be refunded: once, in full, by the deployment and hospital that
/// settled it.
pub fn decide_refund(settled_by_caller: bool, already_refunded: bool) -> Result<(), DomainError> {
    if !settled_by_caller {
        return Err(DomainError::refused("not_your_bill", "only the hospital that settled a bill refunds it"));
    }
    crate::medical::decide_refund(already_refunded)
}

/// One entry of the hub's inter-deployment clearing ledger: `payer` owes `payee` `amount_fen`
/// for the bill, on `day` (the hub's calendar day of the entry, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingEntry {
    pub payer: DeploymentCode,
    pub payee: DeploymentCode,
    pub amount_fen: i64,
    pub day: String,
}

/// The hub's entry for a settlement (the decider pays the origin) or its refund (the other way);
/// `None` when nothing is owed (a bill the holder paid in full).
pub fn clearing_entry(
    origin: &DeploymentCode,
    decider: &DeploymentCode,
    owed_fen: i64,
    day: &str,
    refund: bool,
) -> Option<ClearingEntry> {
    (owed_fen > 0).then(|| {
        let (payer, payee) = if refund { (origin, decider) } else { (decider, origin) };
        ClearingEntry { payer: payer.clone(), payee: payee.clone(), amount_fen: owed_fen, day: day.to_string() }
    })
}

/// A checked day `YYYY-MM-DD`.
pub fn check_day(day: &str) -> Result<(), DomainError> {
    let bad = || DomainError::invalid("bad_day", "day", "a day is YYYY-MM-DD");
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| day.get(r).and_then(|s| s.parse::<u16>().ok());
    let (y, m, d) = (num(0..4).ok_or_else(bad)?, num(5..7).ok_or_else(bad)?, num(8..10).ok_or_else(bad)?);
    let month = time::Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    time::Date::from_calendar_date(i32::from(y), month, u8::try_from(d).map_err(|_| bad())?).map_err(|_| bad())?;
    Ok(())
}

/// The net between two deployments over a day: `debtor` owes `creditor` `net_fen` (>= 0);
/// the gross each way is `debtor_owed_fen` (the entries the debtor pays the creditor) and
/// `creditor_owed_fen` (the other way), so `net_fen = debtor_owed_fen - creditor_owed_fen`;
/// `gross_fen` is their sum, everything that moved between them, `entries` how many entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairNet {
    pub debtor: DeploymentCode,
    pub creditor: DeploymentCode,
    pub net_fen: i64,
    pub gross_fen: i64,
    pub debtor_owed_fen: i64,
    pub creditor_owed_fen: i64,
    pub entries: usize,
}

/// What one payer owed one payee over a day: the sum of their entries and how many (the
/// hub's store sums a day per directed pair, so a busy day nets in memory bounded by pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectedTotal {
    pub payer: DeploymentCode,
    pub payee: DeploymentCode,
    pub amount_fen: i64,
    pub entries: usize,
}

/// Sums entries per directed pair (payer, payee).
pub fn totals(entries: &[ClearingEntry]) -> Vec<DirectedTotal> {
    let mut sums: BTreeMap<(&DeploymentCode, &DeploymentCode), (i64, usize)> = BTreeMap::new();
    for e in entries {
        let slot = sums.entry((&e.payer, &e.payee)).or_default();
        slot.0 += e.amount_fen;
        slot.1 += 1;
    }
    sums.into_iter()
        .map(|((payer, payee), (amount_fen, entries))| DirectedTotal {
            payer: payer.clone(),
            payee: payee.clone(),
            amount_fen,
            entries,
        })
        .collect()
}

/// Nets a day's entries per pair of deployments (pairs in code order; a pair that comes out even
/// names its lower code as debtor with 0).
pub fn net_per_day(entries: &[ClearingEntry]) -> Vec<PairNet> {
    net_totals(&totals(entries))
}

/// Nets a day's directed totals per pair of deployments, as [`net_per_day`] does its entries.
pub fn net_totals(totals: &[DirectedTotal]) -> Vec<PairNet> {
    // Per unordered pair (lo, hi): what hi owes lo, what lo owes hi, how many entries.
    let mut pairs: BTreeMap<(DeploymentCode, DeploymentCode), (i64, i64, usize)> = BTreeMap::new();
    for t in totals {
        let hi_pays = t.payer > t.payee;
        let (lo, hi) = if hi_pays { (&t.payee, &t.payer) } else { (&t.payer, &t.payee) };
        let slot = pairs.entry((lo.clone(), hi.clone())).or_default();
        if hi_pays {
            slot.0 += t.amount_fen;
        } else {
            slot.1 += t.amount_fen;
        }
        slot.2 += t.entries;
    }
    pairs
        .into_iter()
        .map(|((lo, hi), (hi_owes_lo, lo_owes_hi, n))| {
            let (debtor, creditor, debtor_owed_fen, creditor_owed_fen) = if hi_owes_lo > lo_owes_hi {
                (hi, lo, hi_owes_lo, lo_owes_hi)
            } else {
                (lo, hi, lo_owes_hi, hi_owes_lo)
            };
            PairNet {
                debtor,
                creditor,
                net_fen: debtor_owed_fen - creditor_owed_fen,
                gross_fen: debtor_owed_fen + creditor_owed_fen,
                debtor_owed_fen,
                creditor_owed_fen,
                entries: n,
            }
        })
        .collect()
}

/// Each deployment's position at the hub over `totals` (positive: the hub owes it); every
/// entry debits its payer and credits its payee, so the positions sum to zero.
pub fn positions(totals: &[DirectedTotal]) -> BTreeMap<DeploymentCode, i64> {
    let mut out = BTreeMap::new();
    for t in totals {
        *out.entry(t.payee.clone()).or_insert(0) += t.amount_fen;
        *out.entry(t.payer.clone()).or_insert(0) -= t.amount_fen;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medical::{Locality, MedicalPolicy, YearToDate, split};

    fn code(s: &str) -> DeploymentCode {
        DeploymentCode::parse(s).expect("code")
    }
    fn dep(c: &str, regions: &[&str]) -> DeploymentInfo {
        DeploymentInfo {
            code: code(c),
            name: c.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            url: "http://x".into(),
        }
    }
    fn region(s: &str) -> RegionCode {
        RegionCode::parse(s).expect("region")
    }
    fn bill(id: &str, amount: i64) -> RemoteBill {
        RemoteBill {
            bill_id: id.into(),
            amount_fen: amount,
            hospital: "HOSP-BJ".into(),
            institution_region: region("110105"),
            presented: Presented::CardIdCode { code: CardIdCode::issue(region("350203"), 7) },
        }
    }
    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).expect("account")
    }

    #[test]
    fn the_card_id_code_names_the_issuing_deployment_and_the_qr_its_key_owner() {
        let deps = [dep("XM", &["3502"]), dep("BJ", &["11"])];
        let b = bill("b1", 100);
        assert_eq!(decider(&b.presented, None, &deps), Ok(code("XM")));
        let sh = Presented::CardIdCode { code: CardIdCode::issue(region("310101"), 1) };
        assert_eq!(decider(&sh, None, &deps).map_err(|e| e.code), Err("no_deployment_for_region"));
        let qr = Presented::Qr { token: "t".into(), key_id: 9 };
        assert_eq!(decider(&qr, Some(&code("XM")), &deps), Ok(code("XM")));
        assert_eq!(decider(&qr, None, &deps).map_err(|e| e.code), Err("unknown_key"));
        assert_eq!(decide_forward(&code("XM"), &code("XM")).map_err(|e| e.code), Err("not_remote"));
        assert!(decide_forward(&code("BJ"), &code("XM")).is_ok());
    }

    #[test]
    fn a_bill_is_checked_before_it_is_forwarded() {
        assert_eq!(bill("b1", 12_345).check(), Ok(Fen::new(12_345)));
        assert_eq!(bill("", 1).check().map_err(|e| e.code), Err("bad_bill_id"));
        assert!(bill("b1", 0).check().is_err());
        let mut b = bill("b1", 1);
        b.hospital = "HOSP/1".into();
        assert_eq!(b.check().map_err(|e| e.code), Err("bad_forward"));
        b.hospital = "HOSP".into();
        b.presented = Presented::Qr { token: "x".repeat(MAX_QR_CHARS + 1), key_id: 1 };
        assert_eq!(b.check().map_err(|e| e.code), Err("bad_forward"));
        assert_eq!(bill("b1", 1).remote_operator(&code("BJ")), "BJ/HOSP-BJ");
    }

    #[test]
    fn the_same_bill_replays_and_another_body_is_a_conflict() {
        assert!(judge_repeated("b1", &bill("b1", 100), &bill("b1", 100)).is_ok());
        assert_eq!(judge_repeated("b1", &bill("b1", 100), &bill("b1", 101)).map_err(|e| e.code), Err("bill_settled"));
        let mut other = bill("b1", 100);
        other.hospital = "HOSP-2".into();
        assert!(judge_repeated("b1", &bill("b1", 100), &other).is_err());
    }

    fn decided(bill: i64, balance: i64) -> Decided {
        let p = MedicalPolicy::default_for(region("350200"));
        let s = split(
            Fen::new(bill),
            &p,
            Locality::of(region("350203"), region("110105")),
            YearToDate::default(),
            Fen::new(balance),
        );
        Decided { split: s.expect("split"), has_bank_account: true }
    }

    #[test]
    fn both_sides_move_their_parts_and_a_refund_reverses_them() {
        // Default policy, cross-province 60%: 2,000 yuan bill, 800 deductible, pool 720, account 500, self 780.
        let d = decided(200_000, 50_000);
        assert_eq!((d.split.pool_fen, d.split.account_fen, d.split.self_pay_fen), (72_000, 50_000, 78_000));
        assert_eq!(d.owed_fen(), 122_000);
        let (pool, med) = (acct("pool:350200"), acct("medical:p1"));
        let at_b = legs_at_decider("s1", &code("BJ"), &pool, &med, &d.split, false).expect("legs");
        assert_eq!(
            at_b.iter().map(|l| (l.from.to_string(), l.to.to_string(), l.amount.value())).collect::<Vec<_>>(),
            [
                ("pool:350200".into(), "clearing:NATION-BJ".into(), 72_000),
                ("medical:p1".into(), "clearing:NATION-BJ".into(), 50_000)
            ]
        );
        let own = origin_self_pay_account("A00000001", true, "HOSP-BJ").expect("own");
        let at_a = legs_at_origin("s2", &code("XM"), "HOSP-BJ", &own, &d, false).expect("legs");
        assert_eq!(
            at_a.iter().map(|l| (l.from.to_string(), l.to.to_string(), l.amount.value())).collect::<Vec<_>>(),
            [
                ("clearing:NATION-XM".into(), "clearing:HOSP-BJ".into(), 122_000),
                ("bank:A00000001".into(), "clearing:HOSP-BJ".into(), 78_000)
            ]
        );
        // What A's receivable and B's payable say agree: the hospital got the whole bill.
        assert_eq!(at_a.iter().map(|l| l.amount.value()).sum::<i64>(), 200_000);
        let back = legs_at_origin("s2", &code("XM"), "HOSP-BJ", &own, &d, true).expect("legs");
        for (l, r) in at_a.iter().zip(&back) {
            assert_eq!((&l.from, &l.to, l.amount), (&r.to, &r.from, r.amount));
            assert_eq!(r.kind, TransferKind::MedicalRefund);
        }
        assert_eq!(origin_self_pay_account("A1", false, "HOSP-BJ").map(|a| a.to_string()), Ok("cash:HOSP-BJ".into()));
    }

    #[test]
    fn refunds_only_by_the_settling_hospital_and_once() {
        assert!(decide_refund(true, false).is_ok());
        assert_eq!(decide_refund(false, false).map_err(|e| e.code), Err("not_your_bill"));
        assert_eq!(decide_refund(true, true).map_err(|e| e.code), Err("already_refunded"));
    }

    #[test]
    fn the_hub_nets_a_day_per_pair_and_its_books_sum_to_zero() {
        let (xm, bj, fz) = (code("XM"), code("BJ"), code("FZ"));
        let day = "2026-12-02";
        let mut e = vec![];
        e.extend(clearing_entry(&bj, &xm, 122_000, day, false)); // XM owes BJ
        e.extend(clearing_entry(&xm, &bj, 30_000, day, false)); // BJ owes XM
        e.extend(clearing_entry(&bj, &fz, 5_000, day, false)); // FZ owes BJ
        e.extend(clearing_entry(&bj, &fz, 5_000, day, true)); // refunded
        assert!(clearing_entry(&bj, &xm, 0, day, false).is_none(), "nothing owed, no entry");
        let net = net_per_day(&e);
        assert_eq!(
            net,
            [
                PairNet {
                    debtor: bj.clone(),
                    creditor: fz.clone(),
                    net_fen: 0,
                    gross_fen: 10_000,
                    debtor_owed_fen: 5_000,
                    creditor_owed_fen: 5_000,
                    entries: 2
                },
                PairNet {
                    debtor: xm.clone(),
                    creditor: bj.clone(),
                    net_fen: 92_000,
                    gross_fen: 152_000,
                    debtor_owed_fen: 122_000,
                    creditor_owed_fen: 30_000,
                    entries: 2
                },
            ]
        );
        let pos = positions(&totals(&e));
        assert_eq!(pos.values().sum::<i64>(), 0);
        assert_eq!(pos.get(&bj), Some(&92_000));
        assert_eq!(pos.get(&xm), Some(&-92_000));
    }

    #[test]
    fn totals_per_directed_pair_net_as_the_entries_do() {
        let (xm, bj) = (code("XM"), code("BJ"));
        let day = "2026-12-02";
        let mut e = vec![];
        for fen in [100, 200, 300] {
            e.extend(clearing_entry(&bj, &xm, fen, day, false)); // XM owes BJ, three bills
        }
        e.extend(clearing_entry(&xm, &bj, 50, day, false)); // BJ owes XM
        let t = totals(&e);
        assert_eq!(t.len(), 2, "one total per direction");
        let xm_to_bj = t.iter().find(|t| t.payer == xm).map(|t| (t.amount_fen, t.entries));
        assert_eq!(xm_to_bj, Some((600, 3)));
        let net = net_totals(&t);
        assert_eq!(net, net_per_day(&e));
        assert_eq!((net[0].net_fen, net[0].gross_fen, net[0].entries), (550, 650, 4));
        assert_eq!(positions(&t).get(&bj), Some(&550));
    }

    #[test]
    fn days_are_calendar_days() {
        assert!(check_day("2026-12-02").is_ok());
        for bad in ["2026-02-30", "2026-13-01", "26-12-02", "2026/12/02", "2026-12-2x", ""] {
            assert_eq!(check_day(bad).map_err(|e| e.code), Err("bad_day"), "{bad}");
        }
    }

    #[test]
    fn a_bill_keeps_its_shape_on_the_wire() {
        let b = bill("b1", 100);
        let text = serde_json::to_string(&b).expect("json");
        assert!(text.contains(r#""by":"card_id_code""#), "{text}");
        assert_eq!(serde_json::from_str::<RemoteBill>(&text).expect("parse"), b);
    }
}
