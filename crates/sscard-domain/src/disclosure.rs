//! Who sees a person's full identity numbers and money.
//!
//! The full social security number and document number go to the holder, their guardian,
//! clerks and admins, and to a teller whose bank serves the person (a card or an application
//! with that bank) or who found the person by that very number; everyone else sees the masked
//! form. A person's uses of the card and balances go to the holder, their guardian, clerks,
//! admins and tellers of a bank that serves them.

use crate::access::{Actor, Role};
use crate::error::DomainError;
use crate::person::Person;

/// How much of a person's identity numbers a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    Full,
    Masked,
}

/// What the rules need to know of the caller's relation to a person.
#[derive(Debug, Clone, Copy)]
pub struct Relation<'a> {
    pub person: &'a Person,
    /// Codes of the banks that hold a card or an application of the person.
    pub serving_banks: &'a [String],
    /// The caller found the person by the person's own SSN or document number.
    pub found_by_number: bool,
}

pub(crate) fn is_holder_or_guardian(actor: &Actor, person: &Person) -> bool {
    let me = actor.person_id.as_deref();
    actor.role == Role::Holder
        && me.is_some()
        && (me == Some(person.id.as_str()) || person.guardian.as_ref().map(|g| g.guardian_id.as_str()) == me)
}

fn teller_of_serving_bank(actor: &Actor, rel: &Relation<'_>) -> bool {
    actor.role == Role::Teller && actor.bank_code.as_ref().is_some_and(|b| rel.serving_banks.contains(b))
}

/// Whether the rules for `actor` depend on which banks serve the person (only a teller's do),
/// so a caller can skip reading them for everyone else.
pub fn needs_serving_banks(actor: &Actor) -> bool {
    actor.role == Role::Teller
}

/// How much of `rel.person`'s identity numbers `actor` sees.
pub fn disclosure(actor: &Actor, rel: &Relation<'_>) -> Disclosure {
    let full = matches!(actor.role, Role::Admin | Role::Clerk)
        || is_holder_or_guardian(actor, rel.person)
        || teller_of_serving_bank(actor, rel)
        || (actor.role == Role::Teller && rel.found_by_number);
    if full { Disclosure::Full } else { Disclosure::Masked }
}

/// See a person's uses of the card and balances.
pub fn may_view_accounts(actor: &Actor, rel: &Relation<'_>) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk)
        || is_holder_or_guardian(actor, rel.person)
        || teller_of_serving_bank(actor, rel)
    {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the holder, their guardian, the card office and the holder's banks see these"))
    }
}

/// Whether this look is one the holder is told of: staff (clerks, admins, tellers) seeing the
/// unmasked numbers. The holder and their guardian looking at their own data are not recorded.
pub fn is_recorded_read(actor: &Actor, seen: Disclosure) -> bool {
    seen == Disclosure::Full && matches!(actor.role, Role::Admin | Role::Clerk | Role::Teller)
}

/// List who saw a person's data: the holder, their guardian, clerks and admins.
pub fn may_list_reads(actor: &Actor, person: &Person) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk) || is_holder_or_guardian(actor, person) {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "only the holder, their guardian and the card office see who saw this person's data",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocType, Sex, Ssn};
    use crate::ids::RegionCode;
    use crate::person::{GuardianLink, PersonName};

    fn actor(role: Role, person_id: Option<&str>, bank_code: Option<&str>) -> Actor {
        Actor {
            name: "u".into(),
            role,
            person_id: person_id.map(str::to_string),
            bank_code: bank_code.map(str::to_string),
        }
    }

    fn child() -> Person {
        Person {
            id: "p-child".into(),
            ssn: Ssn::parse("350203202001010020").expect("ssn"),
            doc_type: DocType::ResidentId,
            doc_number: "350203202001010020".into(),
            name: PersonName::parse("张小明").expect("name"),
            sex: Sex::Female,
            birth_date: time::macros::date!(2020 - 01 - 01),
            region: RegionCode::parse("350203").expect("region"),
            guardian: Some(GuardianLink { guardian_id: "p-parent".into(), relationship_proof: "B123".into() }),
            pension_recorded: false,
            created_at_ms: 0,
        }
    }

    #[test]
    fn full_numbers_go_to_the_person_the_office_and_the_serving_bank() {
        let person = child();
        let banks = ["ICBC".to_string()];
        let rel = Relation { person: &person, serving_banks: &banks, found_by_number: false };
        for a in [
            actor(Role::Admin, None, None),
            actor(Role::Clerk, None, None),
            actor(Role::Holder, Some("p-child"), None),
            actor(Role::Holder, Some("p-parent"), None),
            actor(Role::Teller, None, Some("ICBC")),
        ] {
            assert_eq!(disclosure(&a, &rel), Disclosure::Full, "{a:?}");
            assert_eq!(may_view_accounts(&a, &rel), Ok(()), "{a:?}");
        }
        for a in [
            actor(Role::Teller, None, Some("CCB")),
            actor(Role::Holder, Some("p-other"), None),
            actor(Role::Payer, None, None),
            actor(Role::Terminal, None, None),
        ] {
            assert_eq!(disclosure(&a, &rel), Disclosure::Masked, "{a:?}");
            assert!(may_view_accounts(&a, &rel).is_err(), "{a:?}");
        }
    }

    #[test]
    fn only_a_tellers_view_depends_on_the_serving_banks() {
        let person = child();
        let banks = ["ICBC".to_string()];
        for role in [Role::Admin, Role::Clerk, Role::Holder, Role::Payer, Role::Terminal, Role::Teller] {
            let a = actor(role, Some("p-child"), Some("ICBC"));
            let with = Relation { person: &person, serving_banks: &banks, found_by_number: false };
            let without = Relation { serving_banks: &[], ..with };
            let differs = disclosure(&a, &with) != disclosure(&a, &without)
                || may_view_accounts(&a, &with).is_ok() != may_view_accounts(&a, &without).is_ok();
            assert!(!differs || needs_serving_banks(&a), "{role:?}");
        }
        assert!(needs_serving_banks(&actor(Role::Teller, None, Some("ICBC"))));
    }

    #[test]
    fn staff_looks_are_recorded_and_listed_to_the_holder() {
        let person = child();
        let teller = actor(Role::Teller, None, Some("ICBC"));
        assert!(is_recorded_read(&teller, Disclosure::Full));
        assert!(!is_recorded_read(&teller, Disclosure::Masked));
        assert!(is_recorded_read(&actor(Role::Clerk, None, None), Disclosure::Full));
        assert!(!is_recorded_read(&actor(Role::Holder, Some("p-child"), None), Disclosure::Full));
        for ok in [actor(Role::Holder, Some("p-child"), None), actor(Role::Holder, Some("p-parent"), None)] {
            assert_eq!(may_list_reads(&ok, &person), Ok(()));
        }
        for no in [teller, actor(Role::Holder, Some("p-other"), None), actor(Role::Payer, None, None)] {
            assert!(may_list_reads(&no, &person).is_err(), "{no:?}");
        }
    }

    #[test]
    fn a_teller_who_typed_the_number_sees_it_but_not_the_money() {
        let person = child();
        let rel = Relation { person: &person, serving_banks: &[], found_by_number: true };
        let other_teller = actor(Role::Teller, None, Some("CCB"));
        assert_eq!(disclosure(&other_teller, &rel), Disclosure::Full);
        assert!(may_view_accounts(&other_teller, &rel).is_err());
        assert_eq!(disclosure(&actor(Role::Payer, None, None), &rel), Disclosure::Masked);
    }
}
