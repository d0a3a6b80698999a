//! Identifiers of the card business: region codes, card numbers,
//! bank identification numbers and account numbers (PAN), card identification
//! codes, bank and branch codes.
//!
//! Every type here can only be built valid: the fields are private and the
//! only ways in are the checking constructors (`parse`, and for the numbers the
//! platform hands out, `from_serial` / `issue`). Serde goes through the same
//! parsers, so a value read from JSON or a database is as valid as one built
//! in code.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused. Each message names the value (shortened when
/// very long) and the rule it broke. Account numbers are never echoed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A region code that is not exactly six ASCII digits.
    #[error("region code {value:?} must be exactly 6 digits")]
    RegionFormat {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A six-digit region code whose first two digits are no province-level code.
    #[error(
        "region code {value:?} starts with {province:02}, which is not a province-level code \
         (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82, 83)"
    )]
    RegionProvince {
        /// The refused input.
        value: String,
        /// Its first two digits.
        province: u32,
    },
    /// A card number that is not one uppercase letter followed by 8 digits.
    #[error("card number {value:?} must be one letter followed by 8 digits, e.g. A12345678")]
    CardNo {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A bank identification number that is not 6 to 8 digits.
    #[error("bank identification number (BIN) {value:?} must be 6 to 8 digits")]
    Bin {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A bank account number of the wrong length.
    #[error("bank account number must be 19 digits, got {got} characters")]
    PanLength {
        /// How many characters the input had.
        got: usize,
    },
    /// A bank account number with a character other than a digit.
    #[error("bank account number must contain only digits, found {found:?} at position {position}")]
    PanChar {
        /// 1-based position of the first bad character.
        position: usize,
        /// The bad character.
        found: char,
    },
    /// A bank account number whose last digit is not its Luhn check digit.
    #[error(
        "bank account number fails its check digit (the last digit should be {expected}, \
         not {got}); a digit was probably mistyped"
    )]
    PanCheckDigit {
        /// The check digit the first 18 digits call for.
        expected: u8,
        /// The check digit given.
        got: u8,
    },
    /// A card identification code that breaks its shape.
    #[error("card identification code {value:?} is not valid: {reason}")]
    CardIdCode {
        /// The refused input (shortened when very long).
        value: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A bank code that breaks its shape.
    #[error("bank code {value:?} must be 2 to 16 characters of A-Z, 0-9, '_' or '-'")]
    BankCode {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A branch code that breaks its shape.
    #[error("branch code {value:?} must be 2 to 16 characters of A-Z, 0-9, '_' or '-'")]
    BranchCode {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A person id that is not a UUID v7 in its hyphenated form.
    #[error("person id {value:?} must be a UUID v7, e.g. 0192f0c1-7a2b-7c3d-8e4f-0123456789ab")]
    PersonId {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A terminal id that is not `T-` followed by a UUID v7.
    #[error("terminal id {value:?} must be T- followed by a UUID v7")]
    TerminalId {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// An e-card id that is not 32 hexadecimal digits.
    #[error("e-card id {value:?} must be 32 hexadecimal digits")]
    EcardId {
        /// The refused input (shortened when very long).
        value: String,
    },
}

/// The input as shown in an error message: at most 40 characters.
fn shown(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Serialize through `Display` and deserialize a string through a parser.
macro_rules! serde_via_str {
    ($ty:ty, $parse:path) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Region codes
// ---------------------------------------------------------------------------

/// Whether `province` (the first two digits of a region code) is a
/// province-level code: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71 (Taiwan),
/// 81 (Hong Kong), 82 (Macau), 83 (Taiwan residents' residence permits).
pub fn is_valid_province(province: u32) -> bool {
    matches!(
        province,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82 | 83
    )
}

/// A six-digit administrative region code (行政区划代码, GB/T 2260), e.g. 350200
/// for Xiamen. The first two digits are always a province-level code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct RegionCode(u32);

impl RegionCode {
    /// Parse exactly six ASCII digits whose first two are a province-level code
    /// (see [`is_valid_province`]). Surrounding whitespace is ignored.
    pub fn parse(s: &str) -> Result<RegionCode, IdError> {
        let t = s.trim();
        if t.len() != 6 || !all_digits(t) {
            return Err(IdError::RegionFormat { value: shown(s) });
        }
        let code = t.bytes().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
        Self::from_code(code).map_err(|_| IdError::RegionProvince { value: t.to_owned(), province: code / 10_000 })
    }

    /// Build from the integer form (e.g. from the QR token's region field or a
    /// database column), with the same rules as [`RegionCode::parse`].
    pub fn from_code(code: u32) -> Result<RegionCode, IdError> {
        if !(100_000..=999_999).contains(&code) {
            return Err(IdError::RegionFormat { value: code.to_string() });
        }
        let province = code / 10_000;
        if !is_valid_province(province) {
            return Err(IdError::RegionProvince { value: code.to_string(), province });
        }
        Ok(RegionCode(code))
    }

    /// The code of a whole province, e.g. 35 -> 350000.
    pub fn of_province(province: u32) -> Result<RegionCode, IdError> {
        if province > 99 {
            return Err(IdError::RegionFormat { value: province.to_string() });
        }
        Self::from_code(province * 10_000)
    }

    /// The code as an integer, e.g. 350200.
    pub fn code(&self) -> u32 {
        self.0
    }

    /// The province-level part: the first two digits, e.g. 35.
    pub fn province(&self) -> u32 {
        self.0 / 10_000
    }

    /// Whether both codes lie in the same province.
    pub fn same_province(&self, other: &RegionCode) -> bool {
        self.province() == other.province()
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl std::str::FromStr for RegionCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(RegionCode, RegionCode::parse);

// ---------------------------------------------------------------------------
// Card numbers
// ---------------------------------------------------------------------------

/// The 9-character card number printed on the card (卡号): one uppercase
/// letter and 8 digits, e.g. `A12345678`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CardNo(String);

impl CardNo {
    /// Parse one letter and 8 digits. Surrounding whitespace is ignored and a
    /// lowercase letter is accepted and stored uppercase.
    pub fn parse(s: &str) -> Result<CardNo, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 9 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit) {
            Ok(CardNo(t))
        } else {
            Err(IdError::CardNo { value: shown(s) })
        }
    }

    /// The card number for the platform's `serial`-th card: the letter is
    /// `'A' + (serial / 100_000_000) % 26`, the digits `serial % 100_000_000`
    /// zero padded to 8.
    pub fn from_serial(serial: u64) -> CardNo {
        let letter_index = ((serial / 100_000_000) % 26) as u8;
        let letter = char::from(b'A' + letter_index);
        CardNo(format!("{letter}{:08}", serial % 100_000_000))
    }

    /// The number, e.g. `A12345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CardNo {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(CardNo, CardNo::parse);

// ---------------------------------------------------------------------------
// BIN and PAN
// ---------------------------------------------------------------------------

/// A bank identification number (发卡行识别码): the first 6 to 8 digits of
/// every account number the bank issues.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Bin(String);

impl Bin {
    /// Parse 6 to 8 ASCII digits; surrounding whitespace is ignored.
    pub fn parse(s: &str) -> Result<Bin, IdError> {
        let t = s.trim();
        if (6..=8).contains(&t.len()) && all_digits(t) {
            Ok(Bin(t.to_owned()))
        } else {
            Err(IdError::Bin { value: shown(s) })
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_via_str!(Bin, Bin::parse);

/// The Luhn (mod 10) check digit to append to `digits`. Characters other than
/// ASCII digits are skipped, so "6217 0000" and "62170000" give the same digit.
///
/// ```
/// use sscard_domain::ids::luhn_check_digit;
/// assert_eq!(luhn_check_digit("7992739871"), 3);
/// ```
pub fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // Counting from the right of the payload, the first digit is the
            // one next to the check digit, and it is doubled.
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether `number` (ASCII digits only, at least two) ends in its Luhn check digit.
pub fn luhn_valid(number: &str) -> bool {
    if number.len() < 2 || !all_digits(number) {
        return false;
    }
    let (payload, check) = number.split_at(number.len() - 1);
    check.as_bytes()[0] - b'0' == luhn_check_digit(payload)
}

/// A 19-digit bank account number (PAN) whose last digit is its Luhn check
/// digit. `Debug` shows it masked; use [`Pan::as_str`] for the full number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pan(String);

impl Pan {
    /// The length of every account number on a social security card.
    pub const LEN: usize = 19;

    /// Parse 19 ASCII digits ending in their Luhn check digit; surrounding
    /// whitespace is ignored.
    pub fn parse(s: &str) -> Result<Pan, IdError> {
        let t = s.trim();
        let len = t.chars().count();
        if len != Self::LEN {
            return Err(IdError::PanLength { got: len });
        }
        if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdError::PanChar { position: i + 1, found: c });
        }
        let (payload, check) = t.split_at(Self::LEN - 1);
        let expected = luhn_check_digit(payload);
        let got = check.as_bytes()[0] - b'0';
        if expected != got {
            return Err(IdError::PanCheckDigit { expected, got });
        }
        Ok(Pan(t.to_owned()))
    }

    /// Issue the account number for `account_serial` under `bin`: the BIN, the
    /// serial zero padded to fill 18 digits, then the Luhn check digit. A
    /// serial too large for the space left after the BIN (10 to 12 digits) is
    /// taken modulo that space.
    pub fn issue(bin: &Bin, account_serial: u64) -> Pan {
        let width = Self::LEN - 1 - bin.0.len();
        // width is 10..=12, so 10^width fits easily in a u64.
        let space = 10u64.pow(width as u32);
        let payload = format!("{}{:0width$}", bin.0, account_serial % space);
        let check = luhn_check_digit(&payload);
        Pan(format!("{payload}{check}"))
    }

    /// The number with only the first 6 and last 4 digits shown:
    /// `621700*********1234`.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..6], "*".repeat(n - 10), &self.0[n - 4..])
    }

    /// The full number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pan").field(&self.masked()).finish()
    }
}

impl Serialize for Pan {
    /// Serializes the full number: mask it at the API edge with [`Pan::masked`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Pan::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Card identification code
// ---------------------------------------------------------------------------

/// The fixed middle part of every card identification code.
pub const CARD_ID_CODE_INFIX: &str = "D156000005";

/// The card identification code (卡识别码): the 6-digit issuing region,
/// `D156000005`, and 16 uppercase hex digits of a serial — 32 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CardIdCode(String);

impl CardIdCode {
    /// The length of a card identification code.
    pub const LEN: usize = 32;

    /// The code for the `serial`-th card issued in `region`.
    pub fn issue(region: RegionCode, serial: u64) -> CardIdCode {
        CardIdCode(format!("{region}{CARD_ID_CODE_INFIX}{serial:016X}"))
    }

    /// Parse a 32-character code. Surrounding whitespace is ignored and
    /// lowercase hex is accepted and stored uppercase.
    pub fn parse(s: &str) -> Result<CardIdCode, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let err = |reason| IdError::CardIdCode { value: shown(s), reason };
        if !t.is_ascii() || t.len() != Self::LEN {
            return Err(err("it must be 32 characters"));
        }
        if RegionCode::parse(&t[..6]).is_err() {
            return Err(err("it must start with the 6-digit region code of the issuing region"));
        }
        if &t[6..16] != CARD_ID_CODE_INFIX {
            return Err(err("characters 7 to 16 must be D156000005"));
        }
        if !t[16..].bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("the last 16 characters must be hexadecimal digits"));
        }
        Ok(CardIdCode(t))
    }

    /// The issuing region (the first six digits).
    pub fn region(&self) -> RegionCode {
        // Checked in every constructor; the fallback is never taken.
        RegionCode::parse(&self.0[..6]).unwrap_or(RegionCode(110_000))
    }

    /// The serial encoded in the last 16 hex digits.
    pub fn serial(&self) -> u64 {
        u64::from_str_radix(&self.0[16..], 16).unwrap_or(0)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardIdCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_via_str!(CardIdCode, CardIdCode::parse);

// ---------------------------------------------------------------------------
// Bank and branch codes
// ---------------------------------------------------------------------------

fn normalize_code(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_uppercase();
    let ok = (2..=16).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    ok.then_some(t)
}

/// A partner bank's code, e.g. `ICBC`: 2 to 16 characters of A-Z, 0-9, `_`, `-`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BankCode(String);

impl BankCode {
    /// Parse a bank code; the input is trimmed and uppercased first.
    pub fn parse(s: &str) -> Result<BankCode, IdError> {
        normalize_code(s).map(BankCode).ok_or_else(|| IdError::BankCode { value: shown(s) })
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BankCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BankCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(BankCode, BankCode::parse);

/// A bank branch's code, unique within its bank: 2 to 16 characters of A-Z,
/// 0-9, `_`, `-`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BranchCode(String);

impl BranchCode {
    /// Parse a branch code; the input is trimmed and uppercased first.
    pub fn parse(s: &str) -> Result<BranchCode, IdError> {
        normalize_code(s).map(BranchCode).ok_or_else(|| IdError::BranchCode { value: shown(s) })
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BranchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BranchCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(BranchCode, BranchCode::parse);

// ---------------------------------------------------------------------------
// Row ids: persons, terminals, e-cards
// ---------------------------------------------------------------------------

/// Whether `s` is a UUID of version 7 in the hyphenated lowercase form the platform
/// generates (`uuid::Uuid::now_v7().to_string()`): 8-4-4-4-12 hex digits, the version
/// digit 7, the variant digit one of 8, 9, a, b.
fn is_uuid_v7(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'7'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// A string id of a stored row: parsed when it comes from outside, taken as it is when
/// read back from the store ([`From<String>`]), compared, hashed and ordered as its text.
macro_rules! row_id {
    ($(#[$m:meta])* $name:ident, $norm:expr, $err:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parse an id of the shape the platform generates; surrounding whitespace is
            /// ignored and hex digits are taken in either case (stored lowercase).
            pub fn parse(s: &str) -> Result<$name, IdError> {
                let norm: fn(&str) -> Option<String> = $norm;
                norm(s.trim()).map($name).ok_or_else(|| IdError::$err { value: shown(s) })
            }

            /// An id read back from the store, taken as it is (rows written under older
            /// rules stay readable).
            pub fn from_stored(s: impl Into<String>) -> $name {
                $name(s.into())
            }

            /// The id.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_owned())
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

row_id!(
    /// A person's id: a UUID v7 (`0192f0c1-7a2b-7c3d-8e4f-0123456789ab`).
    PersonId,
    |t| Some(t.to_ascii_lowercase()).filter(|t| is_uuid_v7(t)),
    PersonId
);

row_id!(
    /// A terminal's id: `T-` and a UUID v7. Parsed, the prefix is taken in either case and
    /// stored as `T-`.
    TerminalId,
    |t| {
        let uuid = t.strip_prefix("T-").or_else(|| t.strip_prefix("t-"))?.to_ascii_lowercase();
        is_uuid_v7(&uuid).then(|| format!("T-{uuid}"))
    },
    TerminalId
);

row_id!(
    /// An e-card's id: 32 hexadecimal digits (16 random bytes), stored lowercase.
    EcardId,
    |t| (t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase()),
    EcardId
);
