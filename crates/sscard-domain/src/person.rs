//! Persons: registration rules (documents, guardians, newborns), age, minority and retirement.

use crate::clock::years_between;
use crate::document::{DocType, Document, Sex, Ssn};
use crate::error::DomainError;
use crate::ids::RegionCode;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use time::Date;

/// Age below which a person is a minor.
pub const ADULT_AGE: u32 = 18;
/// Age below which a guardian and a relationship proof are required.
pub const GUARDIAN_REQUIRED_BELOW_AGE: u32 = 16;
/// Longest accepted name, in characters (long transliterated foreign names fit).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest relationship proof number (household register or birth certificate).
pub const MAX_PROOF_CHARS: usize = 32;

/// A person's name as printed on the card: trimmed, 1..=64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("bad_name", "name", "name must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                "bad_name",
                "name",
                format!("name is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid("bad_name", "name", "name contains control characters"));
        }
        Ok(Self(name.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The family-name character and stars, for list views ("张**").
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first: String = chars.next().into_iter().collect();
        first + &"*".repeat(chars.count().min(8))
    }
}

impl TryFrom<String> for PersonName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

/// How a guardian is related, proven by a household register or birth certificate number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianLink {
    pub guardian_id: String,
    pub relationship_proof: String,
}

/// A registered person. The SSN never changes once assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub ssn: Ssn,
    pub doc_type: DocType,
    pub doc_number: String,
    pub name: PersonName,
    pub sex: Sex,
    pub birth_date: Date,
    /// Insured region (参保地).
    pub region: RegionCode,
    pub guardian: Option<GuardianLink>,
    /// A pension is being paid (recorded by a clerk or a benefit batch).
    pub pension_recorded: bool,
    pub created_at_ms: i64,
}

impl Person {
    pub fn age_on(&self, today: Date) -> u32 {
        years_between(self.birth_date, today)
    }
    pub fn is_minor(&self, today: Date) -> bool {
        self.age_on(today) < ADULT_AGE
    }
    /// Retired when a pension is recorded, or else past the statutory age of the policy.
    pub fn is_retired(&self, today: Date, policy: &Policy) -> bool {
        let age = match self.sex {
            Sex::Male => policy.retirement_age_male,
            Sex::Female => policy.retirement_age_female,
        };
        self.pension_recorded || self.age_on(today) >= age
    }
}

/// What a registration request says, before any rule is applied.
#[derive(Debug, Clone)]
pub struct RegistrationInput {
    pub doc_type: DocType,
    pub doc_number: String,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub region: RegionCode,
    pub guardian_id: Option<String>,
    pub relationship_proof: Option<String>,
}

/// The document and the facts derived from it, checked against what the request claims.
#[derive(Debug, Clone)]
pub struct CheckedIdentity {
    pub document: Document,
    pub name: PersonName,
    pub sex: Sex,
    pub birth_date: Date,
}

/// First half of registration: the document parses and agrees with the given sex and birth date.
/// The caller then looks up the SSN (409 if taken) and the guardian, and calls [`decide_registration`].
pub fn check_identity(input: &RegistrationInput, today: Date) -> Result<CheckedIdentity, DomainError> {
    let document = Document::parse(input.doc_type, &input.doc_number, today)?;
    let name = PersonName::parse(&input.name)?;
    let sex = match (document.sex(), input.sex) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(DomainError::invalid(
                "sex_mismatch",
                "sex",
                format!("the document number says {}, the request says {}", derived.as_str(), given.as_str()),
            ));
        }
        (Some(derived), _) => derived,
        (None, Some(given)) => given,
        (None, None) => {
            return Err(DomainError::invalid("sex_required", "sex", "this document does not carry the sex: give it"));
        }
    };
    let birth_date = match (document.birth_date(), input.birth_date) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(DomainError::invalid(
                "birth_date_mismatch",
                "birth_date",
                format!("the document number says {derived}, the request says {given}"),
            ));
        }
        (Some(derived), _) => derived,
        (None, Some(given)) if given > today => {
            return Err(DomainError::invalid("bad_birth_date", "birth_date", "birth date is in the future"));
        }
        (None, Some(given)) => given,
        (None, None) => {
            return Err(DomainError::invalid(
                "birth_date_required",
                "birth_date",
                "this document does not carry the birth date: give it",
            ));
        }
    };
    Ok(CheckedIdentity { document, name, sex, birth_date })
}

/// Second half of registration: guardian rules, then the person as it will be stored.
/// `ssn` is the document's own number or one the platform assigned for life.
pub fn decide_registration(
    input: &RegistrationInput,
    identity: CheckedIdentity,
    ssn: Ssn,
    guardian: Option<&Person>,
    id: String,
    today: Date,
    now_ms: i64,
) -> Result<Person, DomainError> {
    let age = years_between(identity.birth_date, today);
    let link = guardian_link(input, guardian, age, today)?;
    Ok(Person {
        id,
        ssn,
        doc_type: identity.document.doc_type(),
        doc_number: identity.document.number().to_string(),
        name: identity.name,
        sex: identity.sex,
        birth_date: identity.birth_date,
        region: input.region,
        guardian: link,
        pension_recorded: false,
        created_at_ms: now_ms,
    })
}

fn guardian_link(
    input: &RegistrationInput,
    guardian: Option<&Person>,
    age: u32,
    today: Date,
) -> Result<Option<GuardianLink>, DomainError> {
    let needs = age < GUARDIAN_REQUIRED_BELOW_AGE;
    let guardian_id = match &input.guardian_id {
        None if needs => {
            return Err(DomainError::invalid(
                "guardian_required",
                "guardian_id",
                "a person under 16 needs a registered guardian",
            ));
        }
        None => return Ok(None),
        Some(id) => id,
    };
    let Some(guardian) = guardian else {
        return Err(DomainError::invalid(
            "guardian_unknown",
            "guardian_id",
            format!("no person {guardian_id} is registered"),
        ));
    };
    if guardian.is_minor(today) {
        return Err(DomainError::refused("guardian_is_minor", "the guardian must be an adult"));
    }
    let proof = input.relationship_proof.as_deref().map(str::trim).unwrap_or("");
    if proof.is_empty() {
        return Err(DomainError::invalid(
            "relationship_proof_required",
            "relationship_proof",
            "give the household register or birth certificate number that proves the relationship",
        ));
    }
    if proof.chars().count() > MAX_PROOF_CHARS || !proof.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            "bad_relationship_proof",
            "relationship_proof",
            "the proof number must be 1-32 letters or digits",
        ));
    }
    Ok(Some(GuardianLink { guardian_id: guardian.id.clone(), relationship_proof: proof.to_ascii_uppercase() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  张三 ").map(|n| n.as_str().to_string()), Ok("张三".to_string()));
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"名".repeat(65)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert_eq!(PersonName::parse("张小明").map(|n| n.masked()), Ok("张**".to_string()));
    }
}
