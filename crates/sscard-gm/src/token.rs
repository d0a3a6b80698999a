//! The e-card QR token, version 1.
//!
//! ```text
//! offset size field
//! 0      1    version = 1
//! 1      4    key_id          issuer key that signed it
//! 5      16   ecard_id        opaque random id of the e-card (never the SSN)
//! 21     1    status          1 = active
//! 22     1    flags           bit0 retired, bit1 minor, bit2 temporary card
//! 23     4    region          6-digit insured region code as integer
//! 27     8    issued_at       unix seconds
//! 35     2    ttl             seconds valid (default 60)
//! 37     8    nonce
//! 45     64   signature       SM2 r||s (32+32 bytes) over bytes 0..45
//! ```
//!
//! All integers are big-endian. Text form: `SSC1.` + base64url without
//! padding of the 109 bytes (151 characters in all).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::sm2::{SIGNATURE_LEN, SigningKey};

/// The only token version this crate knows.
pub const TOKEN_VERSION: u8 = 1;
/// Length of the signed part (bytes 0..45).
pub const CLAIMS_LEN: usize = 45;
/// Length of a whole binary token.
pub const TOKEN_LEN: usize = CLAIMS_LEN + SIGNATURE_LEN;
/// Prefix of the text form.
pub const TOKEN_PREFIX: &str = "SSC1.";
/// Length of the whole text form.
pub const TOKEN_TEXT_LEN: usize = TOKEN_PREFIX.len() + (TOKEN_LEN * 4).div_ceil(3);
/// `status` of an active e-card.
pub const STATUS_ACTIVE: u8 = 1;
/// Default `ttl_s`.
pub const DEFAULT_TTL_S: u16 = 60;

const FLAG_RETIRED: u8 = 0b001;
const FLAG_MINOR: u8 = 0b010;
const FLAG_TEMPORARY: u8 = 0b100;
const FLAGS_KNOWN: u8 = FLAG_RETIRED | FLAG_MINOR | FLAG_TEMPORARY;

/// Why a token could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The text does not start with `SSC1.`.
    #[error("token does not start with \"SSC1.\"")]
    BadPrefix,
    /// The part after the prefix is not canonical base64url without padding.
    #[error("token is not valid base64url (no padding)")]
    BadBase64,
    /// The decoded token is not 109 bytes.
    #[error("token is {len} bytes, expected 109")]
    WrongLength {
        /// Decoded length (an estimate for very long input).
        len: usize,
    },
    /// The version byte is not 1.
    #[error("unknown token version {version}")]
    UnknownVersion {
        /// The version byte found.
        version: u8,
    },
    /// Flag bits other than bits 0..=2 are set.
    #[error("unknown flag bits {flags:#04x}")]
    UnknownFlags {
        /// The flags byte found.
        flags: u8,
    },
}

/// The flag bits of a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenFlags {
    /// bit 0: the holder is retired.
    pub retired: bool,
    /// bit 1: the holder is a minor.
    pub minor: bool,
    /// bit 2: a temporary card.
    pub temporary: bool,
}

impl TokenFlags {
    /// The flags byte.
    pub fn to_byte(self) -> u8 {
        (if self.retired { FLAG_RETIRED } else { 0 })
            | (if self.minor { FLAG_MINOR } else { 0 })
            | (if self.temporary { FLAG_TEMPORARY } else { 0 })
    }

    /// Parse a flags byte; unknown bits are an error.
    pub fn from_byte(b: u8) -> Result<Self, TokenError> {
        if b & !FLAGS_KNOWN != 0 {
            return Err(TokenError::UnknownFlags { flags: b });
        }
        Ok(Self { retired: b & FLAG_RETIRED != 0, minor: b & FLAG_MINOR != 0, temporary: b & FLAG_TEMPORARY != 0 })
    }
}

/// The signed fields of a token (everything but the version and signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Issuer key that signed it.
    pub key_id: u32,
    /// Opaque random id of the e-card (never the SSN); serde: 32 lowercase hex characters.
    #[serde(with = "ecard_id_hex")]
    pub ecard_id: [u8; 16],
    /// Card status; [`STATUS_ACTIVE`] = 1.
    pub status: u8,
    /// Holder and card flags.
    pub flags: TokenFlags,
    /// 6-digit insured region code.
    pub region: u32,
    /// Issue time, unix seconds.
    pub issued_at: i64,
    /// Seconds valid after `issued_at`.
    pub ttl_s: u16,
    /// Random nonce.
    pub nonce: u64,
}

impl TokenClaims {
    /// Unix second after which the token is expired (`issued_at + ttl_s`).
    pub fn expires_at(&self) -> i64 {
        self.issued_at.saturating_add(i64::from(self.ttl_s))
    }

    /// The 45 signed bytes (version 1 layout).
    pub fn encode(&self) -> [u8; CLAIMS_LEN] {
        let mut b = [0u8; CLAIMS_LEN];
        b[0] = TOKEN_VERSION;
        b[1..5].copy_from_slice(&self.key_id.to_be_bytes());
        b[5..21].copy_from_slice(&self.ecard_id);
        b[21] = self.status;
        b[22] = self.flags.to_byte();
        b[23..27].copy_from_slice(&self.region.to_be_bytes());
        b[27..35].copy_from_slice(&self.issued_at.to_be_bytes());
        b[35..37].copy_from_slice(&self.ttl_s.to_be_bytes());
        b[37..45].copy_from_slice(&self.nonce.to_be_bytes());
        b
    }

    /// Parse the 45 signed bytes.
    pub fn decode(b: &[u8; CLAIMS_LEN]) -> Result<Self, TokenError> {
        if b[0] != TOKEN_VERSION {
            return Err(TokenError::UnknownVersion { version: b[0] });
        }
        let flags = TokenFlags::from_byte(b[22])?;
        Ok(Self {
            key_id: u32::from_be_bytes(arr(&b[1..5])),
            ecard_id: arr(&b[5..21]),
            status: b[21],
            flags,
            region: u32::from_be_bytes(arr(&b[23..27])),
            issued_at: i64::from_be_bytes(arr(&b[27..35])),
            ttl_s: u16::from_be_bytes(arr(&b[35..37])),
            nonce: u64::from_be_bytes(arr(&b[37..45])),
        })
    }
}

/// Serde for one e-card id as 32 lowercase hex characters (use with
/// `#[serde(with = "sscard_gm::token::ecard_id_hex")]`).
pub mod ecard_id_hex {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize.
    pub fn serialize<S: Serializer>(id: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::offline::hex_ids::encode(id))
    }

    /// Deserialize (either case).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::offline::hex_ids::decode(&s).ok_or_else(|| D::Error::custom(format!("invalid e-card id {s:?}")))
    }
}

fn arr<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    a
}

/// A parsed token (signature not yet checked: see [`crate::offline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken {
    claims: TokenClaims,
    bytes: [u8; TOKEN_LEN],
}

impl SignedToken {
    /// Parse the 109-byte binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenError> {
        let bytes: [u8; TOKEN_LEN] = bytes.try_into().map_err(|_| TokenError::WrongLength { len: bytes.len() })?;
        let claims = TokenClaims::decode(&arr(&bytes[..CLAIMS_LEN]))?;
        Ok(Self { claims, bytes })
    }

    /// The claims.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The signed bytes 0..45.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.bytes[..CLAIMS_LEN]
    }

    /// The 64-byte `r || s` signature.
    pub fn signature(&self) -> &[u8] {
        &self.bytes[CLAIMS_LEN..]
    }

    /// The 109-byte binary form.
    pub fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.bytes
    }

    /// The text form `SSC1.…`.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(TOKEN_TEXT_LEN);
        s.push_str(TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(self.bytes, &mut s);
        s
    }
}

/// Sign `claims` with `key` and return the binary token.
pub fn sign_token_bytes(claims: &TokenClaims, key: &SigningKey) -> [u8; TOKEN_LEN] {
    let mut bytes = [0u8; TOKEN_LEN];
    let body = claims.encode();
    bytes[..CLAIMS_LEN].copy_from_slice(&body);
    bytes[CLAIMS_LEN..].copy_from_slice(&key.sign(&body));
    bytes
}

/// Sign `claims` with `key` and return the text form `SSC1.…`.
pub fn sign_token(claims: &TokenClaims, key: &SigningKey) -> String {
    let bytes = sign_token_bytes(claims, key);
    let mut s = String::with_capacity(TOKEN_TEXT_LEN);
    s.push_str(TOKEN_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut s);
    s
}

/// Parse the text form (surrounding ASCII whitespace, e.g. a scanner's
/// trailing newline, is ignored). Does not check the signature.
pub fn decode_token(text: &str) -> Result<SignedToken, TokenError> {
    let text = text.trim_ascii();
    let b64 = text.strip_prefix(TOKEN_PREFIX).ok_or(TokenError::BadPrefix)?;
    // Refuse absurd input before decoding it.
    let max_b64 = TOKEN_TEXT_LEN - TOKEN_PREFIX.len();
    if b64.len() > max_b64 + 4 {
        return Err(TokenError::WrongLength { len: b64.len() * 3 / 4 });
    }
    let mut buf = [0u8; TOKEN_LEN + 3];
    let n = URL_SAFE_NO_PAD.decode_slice(b64, &mut buf).map_err(|_| TokenError::BadBase64)?;
    SignedToken::from_bytes(&buf[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> TokenClaims {
        TokenClaims {
            key_id: 0x0102_0304,
            ecard_id: *b"0123456789abcdef",
            status: STATUS_ACTIVE,
            flags: TokenFlags { retired: true, minor: false, temporary: true },
            region: 350_200,
            issued_at: 1_764_000_000,
            ttl_s: 60,
            nonce: 0x1122_3344_5566_7788,
        }
    }

    #[test]
    fn layout_is_design_section_4() {
        let b = sample().encode();
        let want = concat!(
            "01",                               // version
            "01020304",                         // key_id
            "30313233343536373839616263646566", // ecard_id
            "01",                               // status
            "05",                               // flags: retired | temporary
            "000557f8",                         // region 350200
            "0000000069248100",                 // issued_at 1764000000
            "003c",                             // ttl 60
            "1122334455667788",                 // nonce
        );
        assert_eq!(hex::encode(b), want);
        assert_eq!(TokenClaims::decode(&b).unwrap(), sample());
    }

    #[test]
    fn sign_and_decode() {
        let key = SigningKey::generate();
        let text = sign_token(&sample(), &key);
        assert_eq!(text.len(), TOKEN_TEXT_LEN);
        assert_eq!(TOKEN_TEXT_LEN, 151);
        assert!(text.starts_with("SSC1."));
        let t = decode_token(&text).unwrap();
        assert_eq!(t.claims(), &sample());
        assert_eq!(t.to_text(), text);
        key.verifying_key().verify(t.signed_bytes(), t.signature()).unwrap();
        assert_eq!(decode_token(&format!(" {text}\r\n")).unwrap(), t);
    }

    #[test]
    fn claims_json() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["ecard_id"], "30313233343536373839616263646566");
        assert_eq!(json["flags"]["temporary"], true);
        let back: TokenClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn precise_errors() {
        let key = SigningKey::generate();
        let text = sign_token(&sample(), &key);
        let b64 = &text[5..];
        assert_eq!(decode_token(""), Err(TokenError::BadPrefix));
        assert_eq!(decode_token(&format!("SSC2.{b64}")), Err(TokenError::BadPrefix));
        assert_eq!(decode_token(&format!("ssc1.{b64}")), Err(TokenError::BadPrefix));
        assert_eq!(decode_token(b64), Err(TokenError::BadPrefix));
        assert_eq!(decode_token(&format!("SSC1.{}+", &b64[1..])), Err(TokenError::BadBase64));
        assert_eq!(decode_token(&format!("SSC1.{b64}=")), Err(TokenError::BadBase64));
        assert_eq!(decode_token(&format!("SSC1.{b64}AAAA")), Err(TokenError::WrongLength { len: 112 }));
        assert_eq!(decode_token(&format!("SSC1.{}", &b64[..140])), Err(TokenError::WrongLength { len: 105 }));
        assert!(matches!(decode_token(&format!("SSC1.{}", "A".repeat(10_000))), Err(TokenError::WrongLength { .. })));
        // Non-canonical trailing bits are refused (each token has one text form).
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = b64.as_bytes()[b64.len() - 1];
        let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
        assert_eq!(idx & 0x0f, 0, "109 bytes leave 4 zero bits in the last character");
        let alt = ALPHABET[idx | 1] as char;
        let noncanon = format!("SSC1.{}{alt}", &b64[..b64.len() - 1]);
        assert_eq!(decode_token(&noncanon), Err(TokenError::BadBase64));
        let mut bytes = *decode_token(&text).unwrap().as_bytes();
        bytes[0] = 2;
        let v2 = format!("SSC1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(decode_token(&v2), Err(TokenError::UnknownVersion { version: 2 }));
        bytes[0] = 1;
        bytes[22] = 0x08;
        let f = format!("SSC1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(decode_token(&f), Err(TokenError::UnknownFlags { flags: 8 }));
    }

    fn arb_claims() -> impl Strategy<Value = TokenClaims> {
        (any::<u32>(), any::<[u8; 16]>(), any::<u8>(), 0u8..8, any::<u32>(), any::<i64>(), any::<u16>(), any::<u64>())
            .prop_map(|(key_id, ecard_id, status, flags, region, issued_at, ttl_s, nonce)| TokenClaims {
                key_id,
                ecard_id,
                status,
                flags: TokenFlags::from_byte(flags).unwrap(),
                region,
                issued_at,
                ttl_s,
                nonce,
            })
    }

    proptest! {
        #[test]
        fn claims_roundtrip(c in arb_claims()) {
            let b = c.encode();
            prop_assert_eq!(TokenClaims::decode(&b).unwrap(), c);
        }

        #[test]
        fn text_roundtrip(c in arb_claims(), sig in any::<[u8; 32]>()) {
            let mut bytes = [0u8; TOKEN_LEN];
            bytes[..CLAIMS_LEN].copy_from_slice(&c.encode());
            bytes[CLAIMS_LEN..CLAIMS_LEN + 32].copy_from_slice(&sig);
            let t = SignedToken::from_bytes(&bytes).unwrap();
            let text = t.to_text();
            prop_assert_eq!(text.len(), TOKEN_TEXT_LEN);
            let back = decode_token(&text).unwrap();
            prop_assert_eq!(back.claims(), &c);
            prop_assert_eq!(back.as_bytes(), &bytes);
        }

        #[test]
        fn decode_never_panics(s in ".{0,200}") {
            let _ = decode_token(&s);
            let _ = decode_token(&format!("SSC1.{s}"));
        }
    }
}
