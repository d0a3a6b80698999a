//! The bounded texts of ISO 20022 (`Max35Text`, `Max34Text`, `Max140Text`): checked once,
//! so a file this crate writes never breaks the schema's lengths.

use std::fmt;

/// Why a text was refused for an ISO 20022 field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or longer than the field allows (in characters, as the schema counts).
    #[error("{field} has 1 to {max} characters, got {got}")]
    Length {
        /// The field, as named in the file.
        field: &'static str,
        /// Its most characters.
        max: usize,
        /// How many it had.
        got: usize,
    },
    /// A control character, which XML 1.0 cannot carry or a bank's system would mangle.
    #[error("{field} holds a control character")]
    Control {
        /// The field, as named in the file.
        field: &'static str,
    },
}

/// A text of 1 to `MAX` characters with no control character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IsoText<const MAX: usize>(String);

/// `Max35Text`: message, payment and end-to-end ids.
pub type Id35 = IsoText<35>;
/// `Max34Text`: an account number (`Othr/Id`).
pub type AccountId = IsoText<34>;
/// `Max140Text`: a party's name.
pub type Name140 = IsoText<140>;

impl<const MAX: usize> IsoText<MAX> {
    /// Check `raw` for `field`.
    pub fn new(raw: &str, field: &'static str) -> Result<Self, TextError> {
        check::<MAX>(raw, field)?;
        Ok(IsoText(raw.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Check `raw` as an `IsoText<MAX>` without keeping it (the hot path of the writer).
pub fn check<const MAX: usize>(raw: &str, field: &'static str) -> Result<(), TextError> {
    // Characters, not bytes: a Chinese name of 50 characters is 150 bytes and still fits Max140Text.
    let got = raw.chars().count();
    if got == 0 || got > MAX {
        return Err(TextError::Length { field, max: MAX, got });
    }
    if raw.chars().any(char::is_control) {
        return Err(TextError::Control { field });
    }
    Ok(())
}

impl<const MAX: usize> fmt::Display for IsoText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(Id35::new(&"a".repeat(35), "MsgId").is_ok());
        assert_eq!(Id35::new(&"a".repeat(36), "MsgId"), Err(TextError::Length { field: "MsgId", max: 35, got: 36 }));
        assert!(Name140::new(&"张".repeat(140), "Nm").is_ok());
        assert!(matches!(Name140::new("", "Nm"), Err(TextError::Length { got: 0, .. })));
        assert_eq!(AccountId::new("62\n17", "Id"), Err(TextError::Control { field: "Id" }));
    }
}
