//! Who may do what: the role rules, as pure functions over the actor and the thing acted on.

use crate::application::{AppStep, Application};
use crate::card::{Card, CardAction};
use crate::error::DomainError;
use crate::transit::TopupSource;
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

/// Which applications a caller may list: staff all of them, a teller their bank's, a holder
/// their own; other roles none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationScope {
    All,
    Bank(String),
    Person(String),
}

/// The applications `actor` may list (the filter the list is narrowed to).
pub fn application_scope(actor: &Actor) -> Result<ApplicationScope, DomainError> {
    match actor.role {
        Role::Admin | Role::Clerk => Ok(ApplicationScope::All),
        Role::Teller => Ok(ApplicationScope::Bank(actor.bank_code.clone().unwrap_or_default())),
        Role::Holder => Ok(ApplicationScope::Person(actor.person_id.clone().unwrap_or_default())),
        Role::Terminal | Role::Payer => Err(deny("list applications")),
    }
}

/// Top up the e-wallet of `person_id`'s card with money from `source`: staff and tellers at a
/// service point from either (cash against their own point's cash account); the holder
/// themself only from the card's bank account, since cash that nobody at a service point
/// took in would be money from nowhere.
pub fn may_top_up(actor: &Actor, person_id: &str, source: TopupSource) -> Result<(), DomainError> {
    if actor.is_staff() || actor.role == Role::Teller {
        return Ok(());
    }
    if !actor.owns(person_id) {
        return Err(DomainError::forbidden("only the holder or staff may top up this e-wallet"));
    }
    match source {
        TopupSource::Bank => Ok(()),
        TopupSource::Cash => Err(DomainError {
            code: "cash_at_a_service_point",
            field: Some("source"),
            ..DomainError::forbidden(
                "a holder tops up from the card's bank account; cash is taken at a service point or a top-up terminal",
            )
        }),
    }
}

/// A transit service-point terminal tops up with cash only (it cannot reach the bank account).
pub fn may_terminal_top_up(source: TopupSource) -> Result<(), DomainError> {
    match source {
        TopupSource::Cash => Ok(()),
        TopupSource::Bank => Err(DomainError::forbidden("a terminal tops up with cash only")),
    }
}

/// Record money a cash point paid into its float: the card office (clerks and admins). A
/// teller, a holder or a terminal could otherwise give their own point cash nobody paid.
pub fn may_fund_float(actor: &Actor) -> Result<(), DomainError> {
    if actor.is_staff() { Ok(()) } else { Err(deny("record money paid into a cash float")) }
}

/// Download everything held about oneself (PIPL): a holder, for the person their login belongs
/// to, and nobody else (staff read through their own audited routes, never as a download).
/// Answers the person whose data it is.
pub fn may_export_own_data(actor: &Actor) -> Result<&str, DomainError> {
    match (actor.role, actor.person_id.as_deref()) {
        (Role::Holder, Some(person_id)) => Ok(person_id),
        _ => Err(deny("download a holder's data: only the holder downloads their own")),
    }
}

/// Deposit into a medical personal account from the region's fund: payers and admins.
pub fn may_deposit_medical(actor: &Actor) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Payer) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only payers and admins deposit into medical accounts"))
    }
}

/// Longest username, in bytes.
pub const MAX_USERNAME: usize = 64;

/// A new login's name (1..=64 letters, digits or `. _ - @`, trimmed) and password (8..=256
/// characters); the name trimmed.
pub fn check_login<'a>(username: &'a str, password: &str) -> Result<&'a str, DomainError> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > MAX_USERNAME
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(DomainError::invalid("bad_username", "username", "a username is 1-64 letters, digits or . _ - @"));
    }
    if password.chars().count() < 8 || password.len() > 256 {
        return Err(DomainError::invalid("weak_password", "password", "a password needs 8 to 256 characters"));
    }
    Ok(username)
}

/// What a login of a role is tied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLink<'a> {
    None,
    /// A holder account belongs to a person.
    Person(&'a str),
    /// A teller works for a bank.
    Bank(&'a str),
}

/// The link a new login of `role` needs: holders a person, tellers a bank.
pub fn user_link<'a>(
    role: Role,
    person_id: Option<&'a str>,
    bank_code: Option<&'a str>,
) -> Result<UserLink<'a>, DomainError> {
    match role {
        Role::Holder => person_id.map(UserLink::Person).ok_or_else(|| {
            DomainError::invalid("person_required", "person_id", "a holder account belongs to a person")
        }),
        Role::Teller => bank_code
            .map(UserLink::Bank)
            .ok_or_else(|| DomainError::invalid("bank_required", "bank_code", "a teller works for a bank")),
        Role::Admin | Role::Clerk | Role::Terminal | Role::Payer => Ok(UserLink::None),
    }
}

/// A login's own branch: only a teller works at one (the desk starts from it); other roles
/// are refused one.
pub fn check_user_branch(role: Role, has_branch: bool) -> Result<(), DomainError> {
    if has_branch && role != Role::Teller {
        return Err(DomainError::invalid("branch_not_allowed", "branch_code", "only a teller works at a branch"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn actor(role: Role, person_id: Option<&str>, bank_code: Option<&str>) -> Actor {
        Actor {
            name: "u".into(),
            role,
            person_id: person_id.map(str::to_string),
            bank_code: bank_code.map(str::to_string),
        }
    }

    #[test]
    fn only_a_holder_downloads_and_only_their_own_data() {
        assert_eq!(may_export_own_data(&actor(Role::Holder, Some("p1"), None)), Ok("p1"));
        assert_eq!(may_export_own_data(&actor(Role::Holder, None, None)).unwrap_err().kind, ErrorKind::Forbidden);
        for role in [Role::Admin, Role::Clerk, Role::Teller, Role::Terminal, Role::Payer] {
            let staff = actor(role, Some("p1"), Some("CCB"));
            assert_eq!(may_export_own_data(&staff).unwrap_err().kind, ErrorKind::Forbidden, "{role}");
        }
    }

    #[test]
    fn only_the_card_office_records_float_fundings() {
        assert!(may_fund_float(&actor(Role::Admin, None, None)).is_ok());
        assert!(may_fund_float(&actor(Role::Clerk, None, None)).is_ok());
        for role in [Role::Teller, Role::Holder, Role::Terminal, Role::Payer] {
            assert_eq!(may_fund_float(&actor(role, Some("p1"), Some("CCB"))).unwrap_err().kind, ErrorKind::Forbidden);
        }
    }

    #[test]
    fn each_role_lists_its_own_applications() {
        assert_eq!(application_scope(&actor(Role::Admin, None, None)), Ok(ApplicationScope::All));
        assert_eq!(application_scope(&actor(Role::Clerk, None, None)), Ok(ApplicationScope::All));
        assert_eq!(
            application_scope(&actor(Role::Teller, None, Some("CCB"))),
            Ok(ApplicationScope::Bank("CCB".into()))
        );
        assert_eq!(
            application_scope(&actor(Role::Holder, Some("p1"), None)),
            Ok(ApplicationScope::Person("p1".into()))
        );
        for role in [Role::Terminal, Role::Payer] {
            assert_eq!(application_scope(&actor(role, None, None)).unwrap_err().kind, ErrorKind::Forbidden);
        }
    }

    #[test]
    fn the_holder_and_staff_top_up_a_wallet() {
        let bank = TopupSource::Bank;
        let cash = TopupSource::Cash;
        assert!(may_top_up(&actor(Role::Holder, Some("p1"), None), "p1", bank).is_ok());
        for role in [Role::Admin, Role::Clerk, Role::Teller] {
            assert!(may_top_up(&actor(role, None, Some("CCB")), "p1", bank).is_ok());
            assert!(may_top_up(&actor(role, None, Some("CCB")), "p1", cash).is_ok());
        }
        assert_eq!(may_top_up(&actor(Role::Holder, Some("p2"), None), "p1", bank).unwrap_err().code, "forbidden");
        assert!(may_top_up(&actor(Role::Payer, None, None), "p1", bank).is_err());
        assert!(may_top_up(&actor(Role::Terminal, None, None), "p1", cash).is_err());
    }

    #[test]
    fn a_holder_cannot_top_up_with_cash_nobody_took_in() {
        let e = may_top_up(&actor(Role::Holder, Some("p1"), None), "p1", TopupSource::Cash).unwrap_err();
        assert_eq!((e.kind, e.code, e.field), (ErrorKind::Forbidden, "cash_at_a_service_point", Some("source")));
    }

    #[test]
    fn logins_have_a_good_name_a_password_and_their_link() {
        assert_eq!(check_login(" anna.li@xm ", "long enough"), Ok("anna.li@xm"));
        assert_eq!(check_login("", "long enough").unwrap_err().code, "bad_username");
        assert_eq!(check_login("anna li", "long enough").unwrap_err().code, "bad_username");
        assert_eq!(check_login("anna", "short").unwrap_err().code, "weak_password");
        assert_eq!(user_link(Role::Holder, Some("p1"), None), Ok(UserLink::Person("p1")));
        assert_eq!(user_link(Role::Holder, None, Some("CCB")).unwrap_err().code, "person_required");
        assert_eq!(user_link(Role::Teller, None, Some("CCB")), Ok(UserLink::Bank("CCB")));
        assert_eq!(user_link(Role::Teller, Some("p1"), None).unwrap_err().code, "bank_required");
        assert_eq!(user_link(Role::Clerk, None, None), Ok(UserLink::None));
    }

    #[test]
    fn terminals_top_up_with_cash_only() {
        assert!(may_terminal_top_up(TopupSource::Cash).is_ok());
        assert_eq!(may_terminal_top_up(TopupSource::Bank).unwrap_err().kind, ErrorKind::Forbidden);
    }

    #[test]
    fn payers_and_admins_deposit_into_medical_accounts() {
        assert!(may_deposit_medical(&actor(Role::Admin, None, None)).is_ok());
        assert!(may_deposit_medical(&actor(Role::Payer, None, None)).is_ok());
        for role in [Role::Clerk, Role::Teller, Role::Holder, Role::Terminal] {
            assert!(may_deposit_medical(&actor(role, Some("p1"), Some("CCB"))).is_err());
        }
    }

    #[test]
    fn one_card_roles_on_cards_and_persons() {
        use crate::card::CardStatus;
        let card = crate::terminal::tests::card(CardStatus::Active);
        let holder = actor(Role::Holder, Some(&card.person_id), None);
        let stranger = actor(Role::Holder, Some("someone-else"), None);
        let teller = actor(Role::Teller, None, Some(card.bank_code.as_str()));
        let other_teller = actor(Role::Teller, None, Some("ICBC"));
        let terminal = actor(Role::Terminal, None, None);
        let clerk = actor(Role::Clerk, None, None);
        assert!(may_act_on_card(&holder, &card, CardAction::ReportLost).is_ok());
        assert!(may_act_on_card(&stranger, &card, CardAction::ReportLost).is_err());
        assert!(may_act_on_card(&teller, &card, CardAction::Suspend).is_ok());
        assert!(may_act_on_card(&other_teller, &card, CardAction::Suspend).is_err());
        assert!(may_act_on_card(&teller, &card, CardAction::Stop).is_err());
        assert!(may_act_on_card(&clerk, &card, CardAction::Stop).is_ok());
        assert!(may_act_on_card(&terminal, &card, CardAction::Activate).is_err());
        assert!(may_view_card(&terminal, &card).is_err());
        assert!(may_view_person(&terminal, &card.person_id).is_err());
        assert!(may_view_person(&holder, &card.person_id).is_ok());
        assert!(may_register(&holder).is_err());
        assert!(may_register(&teller).is_ok());
        assert!(may_read_stats(&teller).is_err());
        assert!(may_administer(&clerk).is_err());
    }

    #[test]
    fn only_tellers_have_a_branch() {
        assert!(check_user_branch(Role::Teller, true).is_ok());
        assert!(check_user_branch(Role::Clerk, false).is_ok());
        for role in [Role::Holder, Role::Clerk, Role::Admin, Role::Payer, Role::Terminal] {
            assert_eq!(check_user_branch(role, true).map_err(|e| e.code), Err("branch_not_allowed"));
        }
    }
}
