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

/// A person's name as printed on the card: NFC-normalised, trimmed, 1..=64 characters of
/// letters of any script, combining marks, spaces, the middle dot of minority names (·, its
/// look-alikes ・ ‧ • becoming ·), hyphen, apostrophe and full stop. Format characters
/// (U+200B, the U+202E reordering mark), controls, digits, symbols and emoji are refused
/// with their position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// The middle dot of minority and transliterated names (艾力·买买提).
pub const NAME_MIDDLE_DOT: char = '\u{00B7}';

/// A character a name may hold, after look-alike middle dots became [`NAME_MIDDLE_DOT`].
fn allowed_in_name(c: char) -> bool {
    c.is_alphabetic()
        || unicode_normalization::char::is_combining_mark(c)
        || matches!(c, ' ' | NAME_MIDDLE_DOT | '-' | '\'' | '\u{2019}' | '.')
}

fn unify_middle_dot(c: char) -> char {
    match c {
        '\u{30FB}' | '\u{2027}' | '\u{2022}' | '\u{FF65}' => NAME_MIDDLE_DOT,
        other => other,
    }
}

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        use unicode_normalization::UnicodeNormalization;
        let normalised: String = raw.trim().nfc().map(unify_middle_dot).collect();
        if let Some((at, c)) = normalised.chars().enumerate().find(|(_, c)| !allowed_in_name(*c)) {
            return Err(DomainError::invalid(
                "bad_name",
                "name",
                format!(
                    "name: character {} (U+{:04X}) is not allowed; a name has letters, spaces, · - ' and . only",
                    at + 1,
                    u32::from(c)
                ),
            ));
        }
        Self::checked_length(normalised)
    }

    /// A name read back from storage, where it was parsed when it was written: only the
    /// length rules and the absence of controls are checked again, so a name stored under an
    /// older, looser rule stays readable.
    pub fn from_stored(stored: String) -> Result<Self, DomainError> {
        if stored.chars().any(char::is_control) {
            return Err(DomainError::invalid("bad_name", "name", "name contains control characters"));
        }
        Self::checked_length(stored)
    }

    fn checked_length(name: String) -> Result<Self, DomainError> {
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
        Ok(Self(name))
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

/// Serde reads names the platform wrote (kept outcomes, events): see [`PersonName::from_stored`].
impl TryFrom<String> for PersonName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_stored(value)
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

    #[test]
    fn names_of_every_script_and_their_marks() {
        let ok = |raw: &str, want: &str| assert_eq!(PersonName::parse(raw).map(|n| n.0), Ok(want.to_string()), "{raw}");
        ok("艾力·买买提", "艾力·买买提");
        ok("艾力・买买提", "艾力·买买提");
        ok("Mary-Jane O'Neil Jr.", "Mary-Jane O'Neil Jr.");
        ok("Zoë Ångström", "Zoë Ångström");
        ok("Zoe\u{0308}", "Zo\u{00EB}");
        ok("Nguyễn Văn An", "Nguyễn Văn An");
        ok("Пётр Чайковский", "Пётр Чайковский");
        ok("محمد", "محمد");
    }

    #[test]
    fn invisible_reordering_and_symbol_characters_are_refused_with_their_position() {
        for (raw, at) in [
            ("张\u{202E}三", 2),
            ("张三\u{200B}", 3),
            ("张三😀", 3),
            ("A\u{0007}B", 2),
            ("测试1", 3),
            ("Li$", 3),
            ("a\u{FEFF}b", 2),
        ] {
            let e = PersonName::parse(raw).expect_err(raw);
            assert_eq!((e.code, e.field), ("bad_name", Some("name")), "{raw}");
            assert!(e.message.contains(&format!("character {at} ")), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn stored_names_stay_readable() {
        assert!(PersonName::from_stored("测试1".to_string()).is_ok());
        assert!(PersonName::from_stored("a\u{0}b".to_string()).is_err());
    }
}
