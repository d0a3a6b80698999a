//! Who may do what: the role rules of DESIGN §8, as pure functions over the actor and the thing acted on.

use crate::application::{AppStep, Application};
use crate::card::{Card, CardAction};
use crate::error::DomainError;
use serde::{Deserialize, Serialize};

crate::application::string_enum!(
    /// A user's role.
    Role { Admin => "admin", Clerk => "clerk", Teller => "teller", Holder => "holder", Terminal => "terminal", Payer => "payer" }
);

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Username (or "system:jobs" for scheduled work); written into timelines and the audit log.
    pub name: String,
    pub role: Role,
    /// The person a holder account belongs to.
    pub person_id: Option<String>,
    /// The bank a teller works for.
    pub bank_code: Option<String>,
}

impl Actor {
    pub fn system(job: &str) -> Self {
        Actor { name: format!("system:{job}"), role: Role::Admin, person_id: None, bank_code: None }
    }
    fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Clerk)
    }
    fn owns(&self, person_id: &str) -> bool {
        self.role == Role::Holder && self.person_id.as_deref() == Some(person_id)
    }
    fn works_for(&self, bank_code: &str) -> bool {
        self.role == Role::Teller && self.bank_code.as_deref() == Some(bank_code)
    }
}

fn deny(what: &str) -> DomainError {
    DomainError::forbidden(format!("your role may not {what}"))
}

/// Register persons: staff and tellers. Holders self-register only through staff in this release.
pub fn may_register(actor: &Actor) -> Result<(), DomainError> {
    if actor.is_staff() || actor.role == Role::Teller { Ok(()) } else { Err(deny("register persons")) }
}

/// See a person: staff, tellers (to serve them at the desk), the holder themself.
pub fn may_view_person(actor: &Actor, person_id: &str) -> Result<(), DomainError> {
    if actor.is_staff() || actor.role == Role::Teller || actor.owns(person_id) {
        Ok(())
    } else {
        Err(deny("see this person"))
    }
}

/// Take an application: staff; tellers for their own bank; holders for themselves (online, kiosk).
pub fn may_apply(actor: &Actor, person_id: &str, bank_code: &str) -> Result<(), DomainError> {
    if actor.is_staff() || actor.works_for(bank_code) || actor.owns(person_id) {
        Ok(())
    } else {
        Err(deny("take this application"))
    }
}

/// See an application and its timeline.
pub fn may_view_application(actor: &Actor, app: &Application) -> Result<(), DomainError> {
    if actor.is_staff() || actor.works_for(app.bank_code.as_str()) || actor.owns(&app.person_id) {
        Ok(())
    } else {
        Err(deny("see this application"))
    }
}

/// Move an application: review (approve, reject) is the card office's; making and handing
/// over are the issuing bank's; withdrawing is the holder's or staff's.
pub fn may_step(actor: &Actor, app: &Application, step: AppStep) -> Result<(), DomainError> {
    let ok = match step {
        AppStep::Approve | AppStep::Reject => actor.is_staff(),
        AppStep::Produce | AppStep::Ready | AppStep::Ship | AppStep::Deliver | AppStep::Collect => {
            actor.is_staff() || actor.works_for(app.bank_code.as_str())
        }
        AppStep::Withdraw => actor.is_staff() || actor.works_for(app.bank_code.as_str()) || actor.owns(&app.person_id),
    };
    if ok { Ok(()) } else { Err(deny(&format!("{} this application", step.as_str()))) }
}

/// See a card.
pub fn may_view_card(actor: &Actor, card: &Card) -> Result<(), DomainError> {
    if actor.is_staff() || actor.works_for(card.bank_code.as_str()) || actor.owns(&card.person_id) {
        Ok(())
    } else {
        Err(deny("see this card"))
    }
}

/// Act on a card: the holder on their own card (activate, loss, lift, cancel on request);
/// tellers of the issuing bank at the desk; stop (停用) is the card office's alone.
pub fn may_act_on_card(actor: &Actor, card: &Card, action: CardAction) -> Result<(), DomainError> {
    let ok = match action {
        CardAction::Stop => actor.is_staff(),
        CardAction::Activate
        | CardAction::Suspend
        | CardAction::Unsuspend
        | CardAction::ReportLost
        | CardAction::Cancel => {
            actor.is_staff() || actor.works_for(card.bank_code.as_str()) || actor.owns(&card.person_id)
        }
    };
    if ok { Ok(()) } else { Err(deny(&format!("{} this card", action.as_str()))) }
}

/// Manage banks, branches, users and run jobs: admin (and clerks for jobs).
pub fn may_administer(actor: &Actor) -> Result<(), DomainError> {
    if actor.role == Role::Admin { Ok(()) } else { Err(deny("administer the platform")) }
}

/// Read the overview statistics: staff.
pub fn may_read_stats(actor: &Actor) -> Result<(), DomainError> {
    if actor.is_staff() { Ok(()) } else { Err(deny("read statistics")) }
}
