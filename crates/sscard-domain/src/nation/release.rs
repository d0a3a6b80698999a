//! Releasing a person for a move to another deployment (异地停用, DESIGN §7.1): what the hub's
//! `release_person` command means for the cards and applications this deployment holds.
//!
//! Only deciding: the deployment's command handler applies the plan, each change through the
//! use case path it always takes (so a stopped card's e-card is revoked in the same
//! transaction), with the hub as the actor.

use crate::application::{AppStatus, Application};
use crate::card::{Card, CardAction, CardStatus, decide_action};
use crate::ids::CardNo;

/// What this deployment does so that it holds nothing live of the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleasePlan {
    /// Active or suspended cards: stopped (停用) with reason `moved`, the e-card revoked.
    pub stop: Vec<CardNo>,
    /// Cards made but never used (produced, dormant, or handed over and not yet activated):
    /// cancelled (注销) at the holder's request, the request being their application elsewhere.
    pub cancel: Vec<CardNo>,
    /// Open applications not at the card bureau: withdrawn (by the hub, not by a step of the
    /// table, which lets nobody withdraw once a card is made: here the card made for a ready
    /// or shipped application is cancelled in the same plan, so nothing is left to hand over).
    pub withdraw: Vec<String>,
}

impl ReleasePlan {
    /// Nothing to do: the person holds nothing live here (already released, or never was).
    pub fn is_empty(&self) -> bool {
        self.stop.is_empty() && self.cancel.is_empty() && self.withdraw.is_empty()
    }
}

/// The decision on a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// Apply this plan now, in one transaction.
    Apply(ReleasePlan),
    /// A card is being made at the card bureau for this application: it can be neither
    /// withdrawn nor cancelled until it exists, so the command is applied later (redelivered).
    Busy { application_id: String },
}

/// Decides the release of a person holding `cards` and `applications` here.
///
/// Every card change is one the card state machine allows, so applying the plan refuses
/// nothing; the withdrawals are the release's own ([`withdrawn_on_release`]).
pub fn decide_release(cards: &[Card], applications: &[Application]) -> Release {
    if let Some(busy) = applications.iter().find(|a| a.status == AppStatus::InProduction) {
        return Release::Busy { application_id: busy.id.clone() };
    }
    let mut plan = ReleasePlan::default();
    for card in cards {
        if card.status.is_live() && decide_action(card, CardAction::Stop).is_ok() {
            plan.stop.push(card.card_no.clone());
        } else if unused(card.status) && decide_action(card, CardAction::Cancel).is_ok() {
            plan.cancel.push(card.card_no.clone());
        }
    }
    plan.withdraw = applications.iter().filter(|a| withdrawn_on_release(a.status)).map(|a| a.id.clone()).collect();
    Release::Apply(plan)
}

/// An application a release withdraws: still open (the hub counts it as the person's card in
/// making until it ends) and not at the card bureau.
pub fn withdrawn_on_release(status: AppStatus) -> bool {
    status.is_open() && status != AppStatus::InProduction
}

/// A card that exists but was never put to use: it could still become live here.
fn unused(status: CardStatus) -> bool {
    matches!(status, CardStatus::Produced | CardStatus::Dormant | CardStatus::Issued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{AppKind, Channel};
    use crate::ids::{BankCode, RegionCode};
    use crate::money::Fen;
    use time::macros::date;

    fn card(no: u64, status: CardStatus) -> Card {
        Card {
            card_no: CardNo::from_serial(no),
            person_id: "p1".into(),
            status,
            generation: 3,
            temporary: false,
            bank_code: BankCode::parse("ICBC").expect("bank code"),
            pan: None,
            card_id_code: None,
            region: RegionCode::parse("350200").expect("region"),
            channel: Some(Channel::Branch),
            application_id: None,
            issued_on: None,
            expires_on: date!(2036 - 01 - 01),
            pin_hash: None,
            suspended_at_ms: None,
            status_changed_at_ms: 0,
            produced_at_ms: 0,
            cancel_reason: None,
            destroyed: false,
        }
    }

    fn app(id: &str, status: AppStatus) -> Application {
        Application {
            id: id.into(),
            person_id: "p1".into(),
            kind: AppKind::First,
            channel: Channel::Branch,
            status,
            fee_fen: Fen::ZERO,
            bank_code: BankCode::parse("ICBC").expect("bank code"),
            branch_code: None,
            mail_address: None,
            reason: None,
            card_no: None,
            replaces_card_no: None,
            submitted_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn plan(cards: &[Card], apps: &[Application]) -> ReleasePlan {
        match decide_release(cards, apps) {
            Release::Apply(plan) => plan,
            Release::Busy { application_id } => panic!("busy with {application_id}"),
        }
    }

    #[test]
    fn live_cards_are_stopped() {
        let p = plan(&[card(1, CardStatus::Active), card(2, CardStatus::Suspended)], &[]);
        assert_eq!(p.stop, vec![CardNo::from_serial(1), CardNo::from_serial(2)]);
        assert!(p.cancel.is_empty() && p.withdraw.is_empty());
    }

    #[test]
    fn cards_made_but_unused_are_cancelled() {
        let cards = [card(1, CardStatus::Produced), card(2, CardStatus::Issued), card(3, CardStatus::Dormant)];
        let p = plan(&cards, &[app("a1", AppStatus::ReadyForPickup), app("a2", AppStatus::Collected)]);
        assert_eq!(p.cancel, vec![CardNo::from_serial(1), CardNo::from_serial(2), CardNo::from_serial(3)]);
        assert!(p.stop.is_empty());
        assert_eq!(p.withdraw, vec!["a1"], "the ready application ends with its card cancelled");
    }

    #[test]
    fn open_applications_are_withdrawn() {
        let apps = [
            app("a1", AppStatus::Submitted),
            app("a2", AppStatus::Approved),
            app("a3", AppStatus::AwaitingRemoteStop),
            app("a4", AppStatus::Collected),
            app("a5", AppStatus::Rejected),
            app("a6", AppStatus::Shipped),
        ];
        assert_eq!(plan(&[], &apps).withdraw, vec!["a1", "a2", "a3", "a6"]);
        for status in AppStatus::ALL {
            let open_not_at_bureau = status.is_open() && *status != AppStatus::InProduction;
            assert_eq!(withdrawn_on_release(*status), open_not_at_bureau, "{status:?}");
        }
    }

    #[test]
    fn a_card_in_production_makes_the_release_wait() {
        let apps = [app("a1", AppStatus::Approved), app("a2", AppStatus::InProduction)];
        assert_eq!(
            decide_release(&[card(1, CardStatus::Active)], &apps),
            Release::Busy { application_id: "a2".into() }
        );
    }

    #[test]
    fn final_and_lost_cards_are_left_alone() {
        let cards = [
            card(1, CardStatus::Lost),
            card(2, CardStatus::Replaced),
            card(3, CardStatus::Stopped),
            card(4, CardStatus::Cancelled),
        ];
        let p = plan(&cards, &[app("a1", AppStatus::Withdrawn), app("a2", AppStatus::Delivered)]);
        assert!(p.is_empty(), "{p:?}");
        assert!(plan(&[], &[]).is_empty());
    }

    #[test]
    fn everything_at_once() {
        let cards = [card(1, CardStatus::Active), card(2, CardStatus::Issued)];
        let p = plan(&cards, &[app("a1", AppStatus::Submitted)]);
        assert_eq!((p.stop.len(), p.cancel.len(), p.withdraw.len()), (1, 1, 1));
        assert!(!p.is_empty());
    }
}
