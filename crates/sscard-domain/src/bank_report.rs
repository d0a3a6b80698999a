//! What a bank's answer about a benefit credit means (待遇发放 returns): which ISO 20022
//! transaction statuses credit or return a paid line, what the usual reason codes say, which
//! changes a report may cause on a line, and who may send reports. Pure rules: the use cases in
//! `sscard_app::bank_files` read the lines, call these, and write the reversal, the line's new
//! bank status, an event and an audit record.

use crate::access::{Actor, Role};
use crate::application::string_enum;
use crate::benefits::LineOutcome;
use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// Most status records in one report (a batch has at most 2,000,000 lines).
pub const MAX_REPORT_LINES: usize = 2_000_000;
/// Records decided and written in one transaction.
pub const REPORT_CHUNK: usize = 1_000;
/// Refused records listed in a report's answer (the counts cover them all).
pub const MAX_LISTED_REFUSALS: usize = 1_000;

string_enum!(
    /// What the bank did with a paid line: the money reached the account, or came back.
    BankStatus { Credited => "credited", Returned => "returned" }
);

string_enum!(
    /// Why a report's record changed nothing.
    ReportRefusal {
        UnknownLine => "unknown_line", UnknownStatus => "unknown_status", Contradicts => "contradicts",
    }
);

/// What a reported status says about a credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// Settled on the creditor's account (`ACSC`, `ACCC`).
    Credited,
    /// Rejected or returned (`RJCT`): the money comes back to the payer.
    Returned,
    /// Still on its way (`ACCP`, `ACSP`, `ACTC`, `ACWC`, `ACWP`, `PDNG`, `RCVD`): nothing changes yet.
    Pending,
}

/// The ISO 20022 `ExternalPaymentTransactionStatus1Code` as a fact about the credit, or `None`
/// for a code this platform does not take (`PART` is a group status, `CANC` is not used).
pub fn classify_status(code: &str) -> Option<Reported> {
    match code {
        "ACSC" | "ACCC" => Some(Reported::Credited),
        "RJCT" => Some(Reported::Returned),
        "ACCP" | "ACSP" | "ACTC" | "ACWC" | "ACWP" | "PDNG" | "RCVD" => Some(Reported::Pending),
        _ => None,
    }
}

/// What a usual `ExternalStatusReason1Code` says, for people reading a returned line.
pub fn reason_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "AC01" => "incorrect account number",
        "AC04" => "closed account",
        "AC06" => "blocked account",
        "AC13" => "invalid debtor account type",
        "AG01" => "transaction forbidden on this account",
        "AM05" => "duplicate payment",
        "BE01" => "name differs from the account holder's",
        "MD07" => "account holder deceased",
        "MS02" => "refused by the account holder",
        "MS03" => "reason not specified",
        "RR01" | "RR02" | "RR03" | "RR04" => "regulatory reason",
        _ => return None,
    })
}

/// What one record does to a paid line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Mark the line credited.
    Credit,
    /// Return the line: a reversal transfer to the payer, the line marked returned (and payable again).
    Return,
    /// The line already has this status: a report sent again changes nothing.
    Unchanged,
    /// The bank has not finished: nothing changes.
    Pending,
    /// The record cannot apply to the line.
    Refuse(ReportRefusal),
}

/// Decide one record for a paid line whose bank status is `current` (`None`: not reported yet).
/// A final status is final: a credited line is not returned by a later report and a returned one
/// is not credited (the money already went back); the same status again is a replay.
pub fn decide_report(current: Option<BankStatus>, reported: Option<Reported>) -> Verdict {
    match (current, reported) {
        (_, None) => Verdict::Refuse(ReportRefusal::UnknownStatus),
        (_, Some(Reported::Pending)) => Verdict::Pending,
        (None, Some(Reported::Credited)) => Verdict::Credit,
        (None, Some(Reported::Returned)) => Verdict::Return,
        (Some(BankStatus::Credited), Some(Reported::Credited))
        | (Some(BankStatus::Returned), Some(Reported::Returned)) => Verdict::Unchanged,
        (Some(_), Some(_)) => Verdict::Refuse(ReportRefusal::Contradicts),
    }
}

/// Where a line counts in a reconciliation: declared = paid + refused + returned (+ undecided
/// while the batch is still being paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Paid and not returned (credited by the bank or not answered yet).
    Paid,
    /// Refused by the platform (unknown person, duplicate, ...): no money moved.
    Refused,
    /// Paid, then returned by the bank: the money went back to the payer.
    Returned,
    /// Not decided yet.
    Undecided,
}

/// The bucket of a line from its outcome (`None`: undecided) and the bank's answer.
pub fn bucket(outcome: Option<LineOutcome>, bank: Option<BankStatus>) -> Bucket {
    match (outcome, bank) {
        (None, _) => Bucket::Undecided,
        (Some(LineOutcome::Paid), Some(BankStatus::Returned)) => Bucket::Returned,
        (Some(LineOutcome::Paid), _) => Bucket::Paid,
        (Some(_), _) => Bucket::Refused,
    }
}

/// The ledger key of a returned line's reversal (bank-account mirror → payer): one per line, so
/// a report applied twice cannot move the money twice.
pub fn reversal_key(end_to_end_id: &str) -> String {
    format!("benefit-return:{end_to_end_id}")
}

/// Send banks' reports: the card office (clerk, admin), which receives the banks' files.
pub fn may_report(actor: &Actor) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the card office records the banks' reports"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_transitions() {
        assert_eq!(classify_status("ACSC"), Some(Reported::Credited));
        assert_eq!(classify_status("RJCT"), Some(Reported::Returned));
        assert_eq!(classify_status("PDNG"), Some(Reported::Pending));
        assert_eq!(classify_status("PART"), None);
        let c = Some(BankStatus::Credited);
        let r = Some(BankStatus::Returned);
        assert_eq!(decide_report(None, Some(Reported::Credited)), Verdict::Credit);
        assert_eq!(decide_report(None, Some(Reported::Returned)), Verdict::Return);
        assert_eq!(decide_report(c, Some(Reported::Credited)), Verdict::Unchanged);
        assert_eq!(decide_report(r, Some(Reported::Returned)), Verdict::Unchanged);
        assert_eq!(decide_report(c, Some(Reported::Returned)), Verdict::Refuse(ReportRefusal::Contradicts));
        assert_eq!(decide_report(r, Some(Reported::Credited)), Verdict::Refuse(ReportRefusal::Contradicts));
        assert_eq!(decide_report(None, Some(Reported::Pending)), Verdict::Pending);
        assert_eq!(decide_report(c, None), Verdict::Refuse(ReportRefusal::UnknownStatus));
    }

    #[test]
    fn reasons_and_keys() {
        assert_eq!(reason_meaning("AC04"), Some("closed account"));
        assert_eq!(reason_meaning("AC06"), Some("blocked account"));
        assert_eq!(reason_meaning("BE01"), Some("name differs from the account holder's"));
        assert_eq!(reason_meaning("ZZ99"), None);
        assert_eq!(reversal_key("SSB1L2"), "benefit-return:SSB1L2");
        assert_eq!(bucket(None, None), Bucket::Undecided);
        assert_eq!(bucket(Some(LineOutcome::Paid), None), Bucket::Paid);
        assert_eq!(bucket(Some(LineOutcome::Paid), Some(BankStatus::Credited)), Bucket::Paid);
        assert_eq!(bucket(Some(LineOutcome::Paid), Some(BankStatus::Returned)), Bucket::Returned);
        assert_eq!(bucket(Some(LineOutcome::Duplicate), None), Bucket::Refused);
    }
}
