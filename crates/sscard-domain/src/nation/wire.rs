//! What goes over JetStream between the deployments and the hub.
//!
//! A deployment's relay publishes each outbox event, in order, on
//! `sscard.events.<deployment>` with `Nats-Msg-Id` = [`event_msg_id`]; the hub sends
//! commands on `sscard.commands.<deployment>` with `Nats-Msg-Id` = the command's id. Every
//! consumer records the message id in the same transaction as its effect, so a redelivery
//! (after a crash, or a resend older than the stream's dedupe window) changes nothing.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stream holding every deployment's events (`sscard.events.>`).
pub const EVENTS_STREAM: &str = "SSCARD_EVENTS";
/// Stream holding the hub's commands to every deployment (`sscard.commands.>`).
pub const COMMANDS_STREAM: &str = "SSCARD_COMMANDS";
/// Subject filter of [`EVENTS_STREAM`].
pub const EVENTS_SUBJECTS: &str = "sscard.events.>";
/// Subject filter of [`COMMANDS_STREAM`].
pub const COMMANDS_SUBJECTS: &str = "sscard.commands.>";

/// A deployment's code: 2 to 16 characters of `A-Z`, `0-9` and `-`, starting with a letter
/// (it is a NATS subject token and part of every message id, so no dots or wildcards).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentCode(String);

/// Why a text is not a deployment code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a deployment code is 2 to 16 characters of A-Z, 0-9 and '-', starting with a letter")]
pub struct BadDeploymentCode;

impl DeploymentCode {
    pub fn parse(s: &str) -> Result<Self, BadDeploymentCode> {
        let ok = (2..=16).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(s.to_string())) } else { Err(BadDeploymentCode) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeploymentCode {
    type Error = BadDeploymentCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeploymentCode> for String {
    fn from(c: DeploymentCode) -> String {
        c.0
    }
}

impl fmt::Display for DeploymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject a deployment's events go to.
pub fn events_subject(deployment: &DeploymentCode) -> String {
    format!("sscard.events.{deployment}")
}

/// The subject the hub's commands to a deployment go to.
pub fn commands_subject(deployment: &DeploymentCode) -> String {
    format!("sscard.commands.{deployment}")
}

/// The `Nats-Msg-Id` of a deployment's outbox event: unique in the nation and stable, so a
/// relay that sends an event twice is deduplicated by JetStream and by every consumer.
pub fn event_msg_id(deployment: &DeploymentCode, seq: i64) -> String {
    format!("{deployment}:{seq}")
}

/// One outbox event as published on `sscard.events.<deployment>`.
///
/// `person_index` is the national blind index of the person's SSN (keyed HMAC-SM3 with the
/// hub's index key), present on events about a person; the hub keys its national index by
/// it and never sees the SSN. `person_id` is the deployment's own opaque id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalEvent {
    pub deployment: DeploymentCode,
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub entity: String,
    pub entity_id: String,
    pub person_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_index: Option<String>,
    pub region: String,
    pub payload: serde_json::Value,
}

/// A command from the hub to one deployment, on `sscard.commands.<deployment>`; its `id` is
/// the `Nats-Msg-Id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub id: String,
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: CommandKind,
}

/// What the hub asks a deployment to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CommandKind {
    /// Another deployment takes this person on (异地停用): stop their live card (reason
    /// `moved`, e-card revoked) or withdraw their application in making, then say so by the
    /// events that follow.
    ReleasePerson { person_id: String, remote_stop_id: String, for_deployment: DeploymentCode },
    /// The person is released everywhere else: the application waiting in
    /// `awaiting_remote_stop` goes on.
    ResumeApplication { application_id: String, remote_stop_id: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_codes_are_subject_tokens() {
        assert!(DeploymentCode::parse("XM").is_ok());
        assert!(DeploymentCode::parse("FZ-2").is_ok());
        for bad in ["", "X", "xm", "X.M", "X*", "X>", "1XM", "ABCDEFGHIJKLMNOPQ", "X M"] {
            assert!(DeploymentCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_command_keeps_its_shape_on_the_wire() {
        let c = Command {
            id: "hub:1".into(),
            at_ms: 5,
            kind: CommandKind::ResumeApplication { application_id: "a1".into(), remote_stop_id: "r1".into() },
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains("\"command\":\"resume_application\""), "{text}");
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), c);
    }
}
