//! The nation (DESIGN §7.1): many deployments, one hub, tied by NATS JetStream.
//!
//! `wire` is the contract every deployment and the hub speak on JetStream: subjects, stream
//! names, message ids and the message bodies. The rules that decide what the hub and a
//! deployment do with a message live beside it, pure like the rest of this crate.
pub mod forward;
pub mod hub;
pub mod medical;
pub mod release;
pub mod trust;
pub mod visitor;
pub mod wire;
