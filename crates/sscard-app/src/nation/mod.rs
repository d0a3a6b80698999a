//! A deployment's side of the nation (DESIGN §7.1, docs/NATION.md): one live card per person
//! in the whole country.
//!
//! Before it approves a first, upgrade or replacement application, a deployment asks the hub
//! through a [`HubLink`] ([`approve`]); the hub's commands (`release_person`,
//! `resume_application`) come in through [`handle_command`], each applied exactly once.
//! Without a [`Nation`] in the context the deployment stands alone and approves as before.

mod approve;
mod commands;

pub(crate) use approve::approve;
pub use commands::{CommandOutcome, handle_command};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sscard_domain::nation::wire::DeploymentCode;
use std::sync::Arc;

/// The consumer name under which commands are recorded as applied (`consumed_messages`).
pub const COMMANDS_CONSUMER: &str = "commands";

/// What a deployment asks the hub before approving (`POST /api/v1/hub/claims`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The national blind index of the person's SSN ([`NationalIndexKey::person_index`]).
    pub person_index: String,
    /// This deployment's own id of the person.
    pub person_id: String,
    /// The application waiting for the answer.
    pub application_id: String,
}

/// The hub's answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ClaimAnswer {
    /// Nobody else holds the person: approve.
    Go,
    /// `held_by` holds the person's live card (or one in making) and was told to release
    /// them: the application waits in `awaiting_remote_stop` until `resume_application`.
    Wait { remote_stop_id: String, held_by: DeploymentCode },
}

/// Why the hub gave no answer. The approve then changes nothing and says `hub_unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// No connection, a timeout, or a 5xx.
    #[error("the national hub did not answer: {0}")]
    Unreachable(String),
    /// The hub refused the request (a 4xx: a bad secret, a bad field).
    #[error("the national hub refused the claim ({status}): {detail}")]
    Refused { status: u16, detail: String },
    /// The hub answered something that is not a claim answer.
    #[error("the national hub's answer is not understood: {0}")]
    BadAnswer(String),
}

/// The way to the national hub. The server implements it over HTTP; tests with a double.
#[async_trait]
pub trait HubLink: Send + Sync {
    /// Asks whether this deployment may take the person on now.
    async fn claim(&self, request: &ClaimRequest) -> Result<ClaimAnswer, HubError>;
}

/// The key of the national blind index, which the hub serves to its deployments
/// (`GET /api/v1/hub/index-key`). Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalIndexKey(Vec<u8>);

/// Why a text is not an index key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the national index key is 32 to 128 hex characters")]
pub struct BadIndexKey;

impl NationalIndexKey {
    /// From the hub's `key_hex` (16 to 64 bytes).
    pub fn from_hex(text: &str) -> Result<Self, BadIndexKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| BadIndexKey)?;
        if (16..=64).contains(&bytes.len()) { Ok(NationalIndexKey(bytes)) } else { Err(BadIndexKey) }
    }
    /// A person's national index under this key ([`national_person_index`]).
    pub fn person_index(&self, ssn: &str) -> String {
        national_person_index(&self.0, ssn)
    }
}

/// A person's national index: HMAC-SM3 of the SSN under the national index key, 64 lowercase
/// hex characters. The one formula of the nation: the hub ([`crate::hub::IndexKey`]) and every
/// deployment ([`NationalIndexKey`]) call it, so the same SSN gives the same index everywhere.
pub fn national_person_index(key: &[u8], ssn: &str) -> String {
    hex::encode(sscard_gm::sm3::hmac_sm3(key, ssn.as_bytes()))
}

impl std::fmt::Debug for NationalIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NationalIndexKey(..)")
    }
}

/// This deployment in the nation: its code, the way to the hub and the national index key.
/// Carried by [`crate::Ctx::nation`]; `None` there is a deployment on its own.
#[derive(Clone)]
pub struct Nation {
    pub deployment: DeploymentCode,
    pub hub: Arc<dyn HubLink>,
    pub index_key: NationalIndexKey,
}

impl std::fmt::Debug for Nation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nation").field("deployment", &self.deployment).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_key_is_hex_of_16_to_64_bytes() {
        assert!(NationalIndexKey::from_hex(&"ab".repeat(16)).is_ok());
        assert!(NationalIndexKey::from_hex(&"ab".repeat(64)).is_ok());
        for bad in ["", "zz", &"ab".repeat(15), &"ab".repeat(65)] {
            assert_eq!(NationalIndexKey::from_hex(bad), Err(BadIndexKey), "{bad}");
        }
        assert_eq!(format!("{:?}", NationalIndexKey::from_hex(&"ab".repeat(16))), "Ok(NationalIndexKey(..))");
    }

    #[test]
    fn a_person_index_is_the_keyed_sm3_of_the_ssn() {
        let key = NationalIndexKey::from_hex(&"01".repeat(16)).expect("key");
        let ix = key.person_index("350203199001011234");
        assert_eq!(ix, hex::encode(sscard_gm::sm3::hmac_sm3(&[1u8; 16], b"350203199001011234")));
        assert_eq!(ix.len(), 64);
        assert_ne!(ix, key.person_index("350203199001011242"));
        let other = NationalIndexKey::from_hex(&"02".repeat(16)).expect("key");
        assert_ne!(ix, other.person_index("350203199001011234"), "another key, another index");
    }

    #[test]
    fn the_hub_and_a_deployment_index_the_same_ssn_alike() {
        // The deployment's key is the hub's, as `GET /api/v1/hub/index-key` hands it over.
        let hub = crate::hub::IndexKey::derive(&[7u8; 32]);
        let deployment = NationalIndexKey::from_hex(&hub.hex()).expect("the hub's key_hex");
        for ssn in ["350203199001011234", "11010519491231002X", ""] {
            assert_eq!(hub.person_index(ssn), deployment.person_index(ssn), "{ssn}");
        }
        let other = crate::hub::IndexKey::derive(&[8u8; 32]);
        assert_ne!(other.person_index("350203199001011234"), deployment.person_index("350203199001011234"));
    }

    #[test]
    fn a_claim_answer_keeps_its_shape_on_the_wire() {
        assert_eq!(serde_json::to_value(ClaimAnswer::Go).expect("json"), serde_json::json!({"decision": "go"}));
        let wait: ClaimAnswer =
            serde_json::from_str(r#"{"decision":"wait","remote_stop_id":"rs1","held_by":"FZ"}"#).expect("wait");
        let held_by = DeploymentCode::parse("FZ").expect("code");
        assert_eq!(wait, ClaimAnswer::Wait { remote_stop_id: "rs1".into(), held_by });
        assert!(serde_json::from_str::<ClaimAnswer>(r#"{"decision":"maybe"}"#).is_err());
    }
}
