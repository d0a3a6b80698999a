//! Identity documents and social security numbers.
//!
//! A [`Document`] is a document type and a number that has passed every check
//! its type allows: the GB 11643 structure and ISO 7064 MOD 11-2 check
//! character for 18-character numbers, region codes, real birth dates, ISO
//! 3166-1 nationality codes, and the shapes of passports and travel permits.
//! Birth date, sex and region are derived from the number where it carries
//! them.
//!
//! An [`Ssn`] (社会保障号码) is the number a person keeps for life: the
//! document number itself for resident IDs, residence permits and foreign
//! permanent residence IDs, and otherwise a number the platform assigns once
//! ([`Ssn::assigned`]), which starts with the letter `A` so it never collides
//! with an ID number.
//!
//! Document numbers are personal data: `Debug` of [`Document`] and [`Ssn`]
//! shows them masked, and no error message repeats a whole number.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::ids::RegionCode;

/// Why a document type, a document number or an SSN was refused. Every
/// message is meant to be read out to the person at the counter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// A document type name that is not one of [`DocType::ALL`].
    #[error(
        "unknown document type {value:?}: expected one of resident_id, residence_permit, \
         foreign_permanent_id, passport, hk_macau_travel_permit, taiwan_travel_permit, \
         foreign_work_permit"
    )]
    UnknownDocType {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// A sex that is not `male` or `female`.
    #[error("unknown sex {value:?}: expected male or female")]
    UnknownSex {
        /// The refused input (shortened when very long).
        value: String,
    },
    /// Nothing but whitespace was given.
    #[error("the document number is empty")]
    Empty,
    /// The number has the wrong number of characters.
    #[error("the document number should have {expected} characters, but it has {got}")]
    WrongLength {
        /// The lengths this document type allows, e.g. `"18"` or `"5 to 17"`.
        expected: &'static str,
        /// The number of characters given (after trimming).
        got: usize,
    },
    /// A character that is not allowed where it stands.
    #[error("the document number has {found:?} at position {position}, where only {expected} is allowed")]
    BadChar {
        /// 1-based position of the first bad character.
        position: usize,
        /// The bad character.
        found: char,
        /// What is allowed there, e.g. `"a digit"`.
        expected: &'static str,
    },
    /// The last character is not the ISO 7064 MOD 11-2 check character of
    /// the first 17 digits.
    #[error(
        "the check character (the last character) should be {expected}, not {got}: \
         a character of the number was probably mistyped"
    )]
    BadCheckChar {
        /// The check character the first 17 digits call for.
        expected: char,
        /// The last character given.
        got: char,
    },
    /// The birth date digits do not form a real date from 1900 on.
    #[error("the birth date in the number ({digits}) is not valid: {reason}")]
    BadBirthDate {
        /// The eight YYYYMMDD digits.
        digits: String,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The birth date lies after today.
    #[error("the birth date in the number ({date}) is after today ({today})")]
    BirthDateInFuture {
        /// The birth date in the number.
        date: Date,
        /// The day the number was checked.
        today: Date,
    },
    /// The region code at the start of the number does not fit the document type.
    #[error("the region code {region} at the start of the number is not valid here: {reason}")]
    WrongRegion {
        /// The first six characters of the number.
        region: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The three letters of a 2017-format permanent residence ID are not an
    /// ISO 3166-1 alpha-3 country code.
    #[error(
        "the nationality code {code:?} at the start of the number is not an ISO 3166-1 \
         three-letter country code"
    )]
    UnknownNationality {
        /// The three letters.
        code: String,
    },
    /// The number breaks a rule of its document type's shape.
    #[error("the document number is not valid: {rule}")]
    BadShape {
        /// The rule it broke.
        rule: &'static str,
    },
}

impl DocumentError {
    /// The request field the error is about: `"doc_type"` for an unknown
    /// document type, `"sex"` for an unknown sex, `"doc_number"` otherwise.
    pub fn field(&self) -> &'static str {
        match self {
            DocumentError::UnknownDocType { .. } => "doc_type",
            DocumentError::UnknownSex { .. } => "sex",
            _ => "doc_number",
        }
    }
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

// ---------------------------------------------------------------------------
// Document types and sex
// ---------------------------------------------------------------------------

/// Serde through the type's one text table: serialized as `as_str`, deserialized from exactly
/// one of those texts (anything else is serde's usual unknown-variant error).
macro_rules! serde_by_text {
    ($name:ident, $n:literal) => {
        impl $name {
            /// The text of every value, in declaration order.
            pub const NAMES: [&'static str; $n] = {
                let mut out = [""; $n];
                let mut i = 0;
                while i < $n {
                    out[i] = $name::ALL[i].as_str();
                    i += 1;
                }
                out
            };
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| serde::de::Error::unknown_variant(&text, &$name::NAMES))
            }
        }
    };
}
serde_by_text!(DocType, 7);
serde_by_text!(Sex, 2);

/// The kinds of identity document a person can register with.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum DocType {
    /// Resident identity card (居民身份证), GB 11643.
    ResidentId,
    /// Residence permit for Hong Kong, Macau and Taiwan residents (港澳台居民居住证).
    ResidencePermit,
    /// Foreigner's permanent residence ID card (外国人永久居留身份证), 2017 or 2023 format.
    ForeignPermanentId,
    /// Passport (护照).
    Passport,
    /// Mainland travel permit for Hong Kong and Macau residents (港澳居民来往内地通行证).
    HkMacauTravelPermit,
    /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证).
    TaiwanTravelPermit,
    /// Foreigner's work permit (外国人工作许可证).
    ForeignWorkPermit,
}

impl DocType {
    /// Every document type, in declaration order.
    pub const ALL: [DocType; 7] = [
        DocType::ResidentId,
        DocType::ResidencePermit,
        DocType::ForeignPermanentId,
        DocType::Passport,
        DocType::HkMacauTravelPermit,
        DocType::TaiwanTravelPermit,
        DocType::ForeignWorkPermit,
    ];

    /// The wire name, e.g. `resident_id` (also its serde form).
    pub const fn as_str(self) -> &'static str {
        match self {
            DocType::ResidentId => "resident_id",
            DocType::ResidencePermit => "residence_permit",
            DocType::ForeignPermanentId => "foreign_permanent_id",
            DocType::Passport => "passport",
            DocType::HkMacauTravelPermit => "hk_macau_travel_permit",
            DocType::TaiwanTravelPermit => "taiwan_travel_permit",
            DocType::ForeignWorkPermit => "foreign_work_permit",
        }
    }

    /// An English name for people, e.g. "resident ID card".
    pub fn label(self) -> &'static str {
        match self {
            DocType::ResidentId => "resident ID card",
            DocType::ResidencePermit => "Hong Kong, Macau and Taiwan residents' residence permit",
            DocType::ForeignPermanentId => "foreigner's permanent residence ID card",
            DocType::Passport => "passport",
            DocType::HkMacauTravelPermit => "mainland travel permit for Hong Kong and Macau residents",
            DocType::TaiwanTravelPermit => "mainland travel permit for Taiwan residents",
            DocType::ForeignWorkPermit => "foreigner's work permit",
        }
    }

    /// Parse a wire name (surrounding whitespace and letter case are ignored).
    pub fn parse(s: &str) -> Result<DocType, DocumentError> {
        let t = s.trim();
        DocType::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| DocumentError::UnknownDocType { value: shown(s) })
    }

    /// Whether the document number itself is the person's SSN (resident ID,
    /// residence permit, foreign permanent residence ID); for the other types
    /// the platform assigns one.
    pub fn number_is_ssn(self) -> bool {
        matches!(self, DocType::ResidentId | DocType::ResidencePermit | DocType::ForeignPermanentId)
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DocType {
    type Err = DocumentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Sex as recorded on the document.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Sex {
    /// Male (an odd sequence number in an 18-character ID number).
    Male,
    /// Female (an even sequence number in an 18-character ID number).
    Female,
}

impl Sex {
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];

    /// `"male"` or `"female"` (also its serde form).
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Parse `male` or `female` (surrounding whitespace and letter case are ignored).
    pub fn parse(s: &str) -> Result<Sex, DocumentError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("male") {
            Ok(Sex::Male)
        } else if t.eq_ignore_ascii_case("female") {
            Ok(Sex::Female)
        } else {
            Err(DocumentError::UnknownSex { value: shown(s) })
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Sex {
    type Err = DocumentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ---------------------------------------------------------------------------
// GB 11643 check character
// ---------------------------------------------------------------------------

const GB11643_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const GB11643_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character over 17 digit values (0..=9).
fn mod11_2(digits: impl Iterator<Item = u8>) -> char {
    let sum: u32 = digits.zip(GB11643_WEIGHTS).map(|(d, w)| u32::from(d) * w).sum();
    GB11643_CHECK[(sum % 11) as usize]
}

/// The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17
/// characters of an 18-character ID number: weights 7 9 10 5 8 4 2 1 6 3 7 9
/// 10 5 8 4 2, and the remainder 0..10 maps to 1 0 X 9 8 7 6 5 4 3 2.
/// `None` unless `first17` is exactly 17 ASCII digits.
///
/// ```
/// use sscard_domain::document::gb11643_check_char;
/// assert_eq!(gb11643_check_char(b"11010519491231002"), Some('X'));
/// ```
pub fn gb11643_check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(mod11_2(first17.iter().map(|b| b - b'0')))
}

/// Build a valid 18-character ID number: `region`, the birth date as
/// YYYYMMDD, `seq` (taken modulo 1000, zero padded to 3 digits; odd = male,
/// even = female) and the check character. Used by the demo data generator
/// and tests. The region is not restricted, so 810000 / 820000 / 830000 give
/// residence permit numbers; a year outside 0..=9999 is taken modulo 10000.
pub fn make_resident_id(region: RegionCode, birth: Date, seq: u16) -> String {
    let first17 = format!(
        "{region}{:04}{:02}{:02}{:03}",
        birth.year().rem_euclid(10_000),
        u8::from(birth.month()),
        birth.day(),
        seq % 1000
    );
    let check = mod11_2(first17.bytes().map(|b| b.wrapping_sub(b'0')));
    format!("{first17}{check}")
}

// ---------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------

/// Mask a document number or SSN for lists and logs: keep the first 4 and
/// last 4 characters and replace the middle with `*`
/// (`"35010219900101123X"` -> `"3501**********123X"`). Strings of 8
/// characters or fewer keep only their first and last character, and strings
/// of 1 or 2 characters are masked whole.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let keep = match n {
        0..=2 => 0,
        3..=8 => 1,
        _ => 4,
    };
    let mut out = String::with_capacity(s.len());
    out.extend(&chars[..keep]);
    out.extend(std::iter::repeat_n('*', n - 2 * keep));
    out.extend(&chars[n - keep..]);
    out
}

// ---------------------------------------------------------------------------
// ISO 3166-1 alpha-3
// ---------------------------------------------------------------------------

/// Every officially assigned ISO 3166-1 alpha-3 country code, sorted.
pub const ISO_3166_ALPHA3: [&str; 249] = [
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF", "ATG", "AUS", "AUT",
    "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL",
    "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
    "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM",
    "DZA", "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM", "GAB", "GBR",
    "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD", "GRL", "GTM", "GUF", "GUM", "GUY",
    "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA",
    "JAM", "JEY", "JOR", "JPN", "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY",
    "LCA", "LIE", "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX", "MHL",
    "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS", "MWI", "MYS", "MYT", "NAM",
    "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL", "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER",
    "PHL", "PLW", "PNG", "POL", "PRI", "PRK", "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU",
    "SDN", "SEN", "SGP", "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL", "TKM", "TLS", "TON",
    "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY", "USA", "UZB", "VAT", "VCT", "VEN", "VGB",
    "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF", "ZMB", "ZWE",
];

/// Whether `code` is an officially assigned ISO 3166-1 alpha-3 code (uppercase).
pub fn is_iso_alpha3(code: &str) -> bool {
    ISO_3166_ALPHA3.binary_search(&code).is_ok()
}

// ---------------------------------------------------------------------------
// Number checks
// ---------------------------------------------------------------------------

/// Trim and uppercase (ASCII only: anything else is later refused by position).
fn normalize(raw: &str) -> Result<String, DocumentError> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() { Err(DocumentError::Empty) } else { Ok(s) }
}

/// Refuse the first character that `allowed` rejects.
fn check_chars(s: &str, allowed: impl Fn(usize, char) -> bool, expected: &'static str) -> Result<(), DocumentError> {
    match s.chars().enumerate().find(|&(i, c)| !allowed(i, c)) {
        Some((i, c)) => Err(DocumentError::BadChar { position: i + 1, found: c, expected }),
        None => Ok(()),
    }
}

fn check_len(s: &str, ok: impl Fn(usize) -> bool, expected: &'static str) -> Result<(), DocumentError> {
    let got = s.chars().count();
    if ok(got) { Ok(()) } else { Err(DocumentError::WrongLength { expected, got }) }
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// The shape of an 18-character GB 11643 number: 17 digits and a digit or X,
/// exactly 18 characters. Once this passes, `s` is 18 ASCII bytes.
fn gb18_chars(s: &str) -> Result<(), DocumentError> {
    check_chars(s, |_, c| c.is_ascii_digit() || c == 'X', "a digit (or X as the last character)")?;
    check_len(s, |n| n == 18, "18")?;
    check_chars(s, |i, c| c.is_ascii_digit() || i == 17, "a digit (X may only be the last character)")
}

/// The check character of an 18-character number that passed [`gb18_chars`]
/// (or, for assigned SSNs, of `prefix` followed by characters 2 to 17).
fn gb18_check(first17: impl Iterator<Item = u8>, last: u8) -> Result<(), DocumentError> {
    let expected = mod11_2(first17.map(|b| b.wrapping_sub(b'0')));
    let got = char::from(last);
    if expected == got { Ok(()) } else { Err(DocumentError::BadCheckChar { expected, got }) }
}

fn digits_value(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// The birth date at characters 7 to 14 (YYYYMMDD) of an 18-character number
/// that passed [`gb18_chars`]; with `today`, also refused if after it.
fn gb18_birth(s: &str, today: Option<Date>) -> Result<Date, DocumentError> {
    let b = s.as_bytes();
    let digits = &s[6..14];
    let bad = |reason| DocumentError::BadBirthDate { digits: digits.to_owned(), reason };
    let year = digits_value(&b[6..10]);
    let month = digits_value(&b[10..12]);
    let day = digits_value(&b[12..14]);
    if year < 1900 {
        return Err(bad("the year must be 1900 or later"));
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| bad("the month must be 01 to 12"))?;
    let day = u8::try_from(day).map_err(|_| bad("there is no such day in that month"))?;
    // year is at most 9999, well within i32 and time's default range.
    let date =
        Date::from_calendar_date(year as i32, month, day).map_err(|_| bad("there is no such day in that month"))?;
    if let Some(today) = today
        && date > today
    {
        return Err(DocumentError::BirthDateInFuture { date, today });
    }
    Ok(date)
}

/// Sex from the sequence number (characters 15 to 17): odd = male.
fn gb18_sex(s: &str) -> Sex {
    if s.as_bytes()[16].wrapping_sub(b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
}

/// A 2017-format foreign permanent residence ID number: 3 letters of an ISO
/// 3166-1 alpha-3 nationality code and 12 digits.
fn fpr2017(s: &str) -> Result<(), DocumentError> {
    check_chars(
        s,
        |i, c| {
            if i < 3 { c.is_ascii_uppercase() } else { c.is_ascii_digit() }
        },
        "a letter in the first 3 characters (the nationality code) and digits after them",
    )?;
    check_len(s, |n| n == 15, "15")?;
    let code = &s[..3];
    if !is_iso_alpha3(code) {
        return Err(DocumentError::UnknownNationality { code: code.to_owned() });
    }
    Ok(())
}

const RESIDENCE_PERMIT_REGIONS: [&str; 3] = ["810000", "820000", "830000"];

/// The region rule of a resident ID card: a province-level code of the
/// mainland (not 71, 81, 82 or 83).
fn resident_region(s: &str) -> Result<RegionCode, DocumentError> {
    let prefix = &s[..6];
    let wrong = |reason: String| DocumentError::WrongRegion { region: prefix.to_owned(), reason };
    let region = RegionCode::parse(prefix).map_err(|_| {
        wrong(format!("{} is not a province-level code, so this is not a resident ID card number", &prefix[..2]))
    })?;
    match region.province() {
        71 => Err(wrong(
            "71 (Taiwan) is not used on resident ID cards: Taiwan residents use the residence \
             permit (830000) or the travel permit"
                .to_owned(),
        )),
        81..=83 => Err(wrong(
            "810000, 820000 and 830000 are residence permit numbers: choose the document type \
             residence_permit"
                .to_owned(),
        )),
        _ => Ok(region),
    }
}

/// The region rule of a Hong Kong, Macau and Taiwan residence permit:
/// exactly 810000, 820000 or 830000.
fn residence_permit_region(s: &str) -> Result<RegionCode, DocumentError> {
    let prefix = &s[..6];
    if RESIDENCE_PERMIT_REGIONS.contains(&prefix)
        && let Ok(region) = RegionCode::parse(prefix)
    {
        return Ok(region);
    }
    let mut reason = "a residence permit number starts with 810000 (Hong Kong), 820000 (Macau) \
                      or 830000 (Taiwan)"
        .to_owned();
    if resident_region(s).is_ok() {
        reason.push_str("; this looks like a resident ID card number: choose resident_id");
    }
    Err(DocumentError::WrongRegion { region: prefix.to_owned(), reason })
}

// ---------------------------------------------------------------------------
// Document
// ---------------------------------------------------------------------------

/// A checked identity document: its type, its normalized number (trimmed,
/// uppercase) and what the number says about its holder.
///
/// The rules per type:
/// - `resident_id`: 18 characters: a 6-digit region whose province-level code
///   is on the mainland (not 71, 81, 82, 83), the birth date YYYYMMDD (a real
///   date from 1900 on, not after today), a 3-digit sequence (odd = male) and
///   the ISO 7064 MOD 11-2 check character (0-9 or X).
/// - `residence_permit`: the same, but the region is exactly 810000 (Hong
///   Kong), 820000 (Macau) or 830000 (Taiwan).
/// - `foreign_permanent_id`: the 2023 format, 18 characters starting with 9,
///   with the same check character, birth date and sex rules; its region is
///   the province of the two digits after the 9 (when they are one). Or the
///   2017 format, 15 characters: an ISO 3166-1 alpha-3 nationality code and
///   12 digits, from which nothing is derived.
/// - `passport`: 5 to 17 letters and digits, at least one digit.
/// - `hk_macau_travel_permit`: `H` (Hong Kong) or `M` (Macau) and 8 or 10 digits.
/// - `taiwan_travel_permit`: 8 digits.
/// - `foreign_work_permit`: 9 to 20 letters and digits. The permit number
///   has no published check rule and its length differs between the old
///   employment licences and the current permit cards, so only its
///   characters and a length range wide enough for every known form and
///   narrow enough to catch a half-typed number are checked.
///
/// `Debug` shows the number masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Document {
    doc_type: DocType,
    number: String,
    birth_date: Option<Date>,
    sex: Option<Sex>,
    region: Option<RegionCode>,
}

impl Document {
    /// Check `raw` as a number of type `doc_type` on `today`. The input is
    /// trimmed and uppercased first, so a lowercase `x` check character is
    /// accepted and stored as `X`.
    pub fn parse(doc_type: DocType, raw: &str, today: Date) -> Result<Document, DocumentError> {
        let s = normalize(raw)?;
        let mut doc = Document { doc_type, number: String::new(), birth_date: None, sex: None, region: None };
        match doc_type {
            DocType::ResidentId | DocType::ResidencePermit => {
                gb18_chars(&s)?;
                gb18_check(s.bytes().take(17), s.as_bytes()[17])?;
                let region =
                    if doc_type == DocType::ResidentId { resident_region(&s)? } else { residence_permit_region(&s)? };
                doc.birth_date = Some(gb18_birth(&s, Some(today))?);
                doc.sex = Some(gb18_sex(&s));
                doc.region = Some(region);
            }
            DocType::ForeignPermanentId => {
                let len = s.chars().count();
                if len == 15 {
                    fpr2017(&s)?;
                } else if len == 18 {
                    gb18_chars(&s)?;
                    if !s.starts_with('9') {
                        return Err(DocumentError::BadShape {
                            rule: "an 18-character permanent residence ID number (2023 format) \
                                   starts with 9",
                        });
                    }
                    gb18_check(s.bytes().take(17), s.as_bytes()[17])?;
                    doc.birth_date = Some(gb18_birth(&s, Some(today))?);
                    doc.sex = Some(gb18_sex(&s));
                    doc.region = RegionCode::of_province(digits_value(&s.as_bytes()[1..3])).ok();
                } else {
                    return Err(DocumentError::WrongLength {
                        expected: "15 (2017 format) or 18 (2023 format)",
                        got: len,
                    });
                }
            }
            DocType::Passport => {
                check_chars(&s, |_, c| is_upper_alnum(c), "a letter or digit")?;
                check_len(&s, |n| (5..=17).contains(&n), "5 to 17")?;
                if !s.bytes().any(|b| b.is_ascii_digit()) {
                    return Err(DocumentError::BadShape { rule: "a passport number contains at least one digit" });
                }
            }
            DocType::HkMacauTravelPermit => {
                check_chars(
                    &s,
                    |i, c| i > 0 || c == 'H' || c == 'M',
                    "H (Hong Kong) or M (Macau) as the first character",
                )?;
                check_chars(&s, |i, c| i == 0 || c.is_ascii_digit(), "a digit")?;
                check_len(&s, |n| n == 9 || n == 11, "9 or 11 (H or M and 8 or 10 digits)")?;
            }
            DocType::TaiwanTravelPermit => {
                check_chars(&s, |_, c| c.is_ascii_digit(), "a digit")?;
                check_len(&s, |n| n == 8, "8")?;
            }
            DocType::ForeignWorkPermit => {
                check_chars(&s, |_, c| is_upper_alnum(c), "a letter or digit")?;
                check_len(&s, |n| (9..=20).contains(&n), "9 to 20")?;
            }
        }
        doc.number = s;
        Ok(doc)
    }

    /// The document type.
    pub fn doc_type(&self) -> DocType {
        self.doc_type
    }

    /// The normalized number (trimmed, uppercase).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The birth date the number carries (18-character numbers only).
    pub fn birth_date(&self) -> Option<Date> {
        self.birth_date
    }

    /// The sex the number carries (18-character numbers only).
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }

    /// The region the number carries: the issuing region of a resident ID,
    /// 810000/820000/830000 for a residence permit, the province of a 2023
    /// permanent residence ID.
    pub fn region(&self) -> Option<RegionCode> {
        self.region
    }

    /// The SSN when the number itself is one (resident ID, residence permit,
    /// foreign permanent residence ID); `None` for documents whose holders
    /// get an assigned SSN ([`Ssn::assigned`]).
    pub fn ssn(&self) -> Option<Ssn> {
        self.doc_type.number_is_ssn().then(|| Ssn(self.number.clone()))
    }

    /// The number masked with [`mask_id`].
    pub fn masked(&self) -> String {
        mask_id(&self.number)
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("doc_type", &self.doc_type)
            .field("number", &self.masked())
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("region", &self.region)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// SSN
// ---------------------------------------------------------------------------

/// A social security number (社会保障号码), unique and kept for life.
///
/// One of: an 18-character ID-shaped number (resident ID, residence permit,
/// 2023 permanent residence ID: 17 digits, a valid check character and a real
/// birth date from 1900 on), a 2017-format permanent residence ID number, or
/// an SSN the platform assigned: `A`, the 6-digit region, a 10-digit serial
/// and the MOD 11-2 check character of `0` + region + serial.
///
/// `Display` and serde give the full number; `Debug` shows it masked.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssn(String);

impl Ssn {
    /// Parse an SSN (trimmed and uppercased first).
    pub fn parse(raw: &str) -> Result<Ssn, DocumentError> {
        let s = normalize(raw)?;
        let len = s.chars().count();
        if len == 15 {
            fpr2017(&s)?;
        } else if len == 18 && s.starts_with('A') {
            check_chars(
                &s,
                |i, c| i == 0 || c.is_ascii_digit() || (i == 17 && c == 'X'),
                "a digit (X may only be the last character)",
            )?;
            let region = &s[1..7];
            if RegionCode::parse(region).is_err() {
                return Err(DocumentError::WrongRegion {
                    region: region.to_owned(),
                    reason: format!(
                        "{} is not a province-level code, so this is not an assigned social \
                         security number",
                        &region[..2]
                    ),
                });
            }
            let first17 = std::iter::once(b'0').chain(s.bytes().skip(1).take(16));
            gb18_check(first17, s.as_bytes()[17])?;
        } else if len == 18 {
            gb18_chars(&s)?;
            gb18_check(s.bytes().take(17), s.as_bytes()[17])?;
            gb18_birth(&s, None)?;
        } else {
            return Err(DocumentError::WrongLength {
                expected: "18 (ID number or assigned number) or 15 (2017 permanent residence ID)",
                got: len,
            });
        }
        Ok(Ssn(s))
    }

    /// The SSN the platform assigns to the `serial`-th person registered in
    /// `region` with a document that is not itself an SSN: `A` + region +
    /// serial (modulo 10^10, zero padded to 10 digits) + the MOD 11-2 check
    /// character computed over `0` + region + serial.
    pub fn assigned(region: RegionCode, serial: u64) -> Ssn {
        let body = format!("{region}{:010}", serial % 10_000_000_000);
        let check = mod11_2(std::iter::once(0).chain(body.bytes().map(|b| b.wrapping_sub(b'0'))));
        Ssn(format!("A{body}{check}"))
    }

    /// Whether the platform assigned this number (it starts with `A`).
    pub fn is_assigned(&self) -> bool {
        self.0.len() == 18 && self.0.starts_with('A')
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number masked with [`mask_id`], e.g. `3501**********123X`.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

impl fmt::Display for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ssn").field(&self.masked()).finish()
    }
}

impl std::str::FromStr for Ssn {
    type Err = DocumentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Ssn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Ssn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ssn::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A number a desk looks a person up by: an SSN or the number of any document, trimmed and
/// uppercased, 1 to 32 characters of A-Z, 0-9 and `-` (every document number fits). Only
/// [`DocumentNumber::parse`] builds one; which document it is, the lookup finds out.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// The longest number accepted.
    pub const MAX_CHARS: usize = 32;

    /// Trim, uppercase and check the shape.
    pub fn parse(raw: &str) -> Result<DocumentNumber, DocumentError> {
        let s = normalize(raw)?;
        check_len(&s, |n| n <= Self::MAX_CHARS, "1 to 32")?;
        check_chars(&s, |_, c| is_upper_alnum(c) || c == '-', "A-Z, 0-9 or -")?;
        Ok(DocumentNumber(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentNumber({})", mask_id(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_number_is_trimmed_uppercased_and_shaped() {
        assert_eq!(DocumentNumber::parse(" e12345678 ").map(|n| n.as_str().to_string()), Ok("E12345678".into()));
        assert_eq!(DocumentNumber::parse("   "), Err(DocumentError::Empty));
        assert!(matches!(DocumentNumber::parse("E1234 5678"), Err(DocumentError::BadChar { position: 6, .. })));
        assert!(matches!(DocumentNumber::parse(&"9".repeat(33)), Err(DocumentError::WrongLength { got: 33, .. })));
        assert!(!format!("{:?}", DocumentNumber::parse("E12345678")).contains("E12345678"));
    }

    #[test]
    fn the_serde_form_is_the_text_form() {
        for d in DocType::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
            assert_eq!(serde_json::from_value::<DocType>(d.as_str().into()).unwrap(), d);
        }
        for s in Sex::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(serde_json::from_value::<Sex>(s.as_str().into()).unwrap(), s);
        }
        assert_eq!(DocType::NAMES[0], "resident_id");
        // Serde stays exact (the lenient `parse` is for forms and the CLI).
        let e = serde_json::from_str::<DocType>("\"Passport\"").unwrap_err().to_string();
        assert!(e.starts_with("unknown variant `Passport`, expected one of `resident_id`"), "{e}");
        assert!(serde_json::from_str::<Sex>("\"MALE\"").is_err());
    }
}
