//! A holder of another deployment of the nation at this deployment's terminals (a visitor):
//! the rules of the one-card uses that serve them (docs/NATION.md, "Visitors at the one-card
//! terminals").
//!
//! A visitor's e-card QR code was checked against the national trust list and its live status
//! asked of the issuing deployment, which answered what it shows a terminal (masked name,
//! region, flags). This deployment has no person row for the visitor and keeps none: a use is
//! recorded with the issuing deployment and the e-card id. Uses that move no money (identity
//! checks, library loans, free park entries) serve visitors; uses that move money would charge
//! an account kept at the issuing deployment, so they refuse a visitor's code
//! ([`Refusal::ForeignCardNotPayable`]), and uses that keep a record of the person here
//! (patron registration, benefit certification) refuse it too
//! ([`Refusal::ForeignCardLocalOnly`]).

use crate::ecard::Attributes;
use crate::error::DomainError;
use crate::ids::RegionCode;
use crate::park::{EntryDecision, ParkRule};
use crate::refusal::Refusal;
use serde::Serialize;

/// A visitor as a terminal here knows them: the issuing deployment, the e-card id and what
/// the issuer shows a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visitor {
    /// The code of the deployment that issued the e-card.
    pub deployment: String,
    /// The e-card's id at its deployment (32 hex characters).
    pub ecard_id: String,
    /// What the issuing deployment shows a terminal (no SSN, a masked name).
    pub attributes: Attributes,
}

/// A visitor's code at a terminal here: the card behind it is the issuer's to judge (it said
/// usable), but a temporary card serves only in its own region (as for this deployment's own
/// temporary cards), and a visitor's region is never this terminal's deployment's.
pub fn check_visitor(v: &Visitor, terminal_region: RegionCode) -> Result<(), DomainError> {
    if v.attributes.temporary && v.attributes.region != terminal_region.to_string() {
        return Err(DomainError::refused(
            Refusal::TemporaryCardOtherRegion.as_str(),
            format!("a temporary card of {} serves only in its own region", v.deployment),
        )
        .with_field("token"));
    }
    Ok(())
}

/// The refusal of a use that would move money on a visitor's card: the card's accounts are
/// kept at its issuing deployment.
pub fn not_payable(deployment: &str) -> DomainError {
    DomainError::refused(
        Refusal::ForeignCardNotPayable.as_str(),
        format!("a card of {deployment} cannot pay here: its accounts are kept at {deployment}"),
    )
    .with_field("token")
}

/// A park entry of a visitor: free for a retiree (by the issuer's `retired` flag) where the
/// park is, free where the park is free; a paid entry is refused, the visitor's e-wallet being
/// the issuer's (and an annual pass, bought with an e-wallet here, never a visitor's).
pub fn decide_visitor_entry(rule: &ParkRule, v: &Visitor) -> Result<EntryDecision, DomainError> {
    if v.attributes.retired && rule.free_for_retirees {
        return Ok(EntryDecision { admitted: true, price_fen: 0, reason: "retiree" });
    }
    if rule.price_fen == 0 {
        return Ok(EntryDecision { admitted: true, price_fen: 0, reason: "free" });
    }
    Err(not_payable(&v.deployment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(retired: bool, temporary: bool) -> Visitor {
        Visitor {
            deployment: "FZ".into(),
            ecard_id: "ab".repeat(16),
            attributes: Attributes { region: "350102".into(), retired, temporary, ..Attributes::default() },
        }
    }

    fn park(price_fen: i64, free_for_retirees: bool) -> ParkRule {
        ParkRule::parse("P1", "West Lake", price_fen, free_for_retirees, true, Some(10_000)).expect("a rule")
    }

    #[test]
    fn a_visitor_enters_free_parks_and_as_a_retiree_but_never_pays() {
        let entered =
            |rule: &ParkRule, v: &Visitor| decide_visitor_entry(rule, v).map(|d| d.reason).map_err(|e| e.code);
        assert_eq!(entered(&park(0, false), &visitor(false, false)), Ok("free"));
        assert_eq!(entered(&park(500, true), &visitor(true, false)), Ok("retiree"));
        assert_eq!(entered(&park(0, true), &visitor(true, false)), Ok("retiree"));
        assert_eq!(entered(&park(500, false), &visitor(true, false)), Err("foreign_card_not_payable"));
        assert_eq!(entered(&park(500, true), &visitor(false, false)), Err("foreign_card_not_payable"));
    }

    #[test]
    fn a_temporary_card_of_another_region_is_refused() {
        let beijing = RegionCode::parse("110105").expect("region");
        let fuzhou = RegionCode::parse("350102").expect("region");
        assert!(check_visitor(&visitor(false, false), beijing).is_ok());
        let e = check_visitor(&visitor(false, true), beijing).expect_err("temporary elsewhere");
        assert_eq!(e.code, "temporary_card_other_region");
        assert!(check_visitor(&visitor(false, true), fuzhou).is_ok());
        assert_eq!(not_payable("FZ").code, "foreign_card_not_payable");
    }
}
