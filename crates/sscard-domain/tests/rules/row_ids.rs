//! Tests of the row ids in `sscard_domain::ids`: persons, terminals, e-cards.

use sscard_domain::ids::{EcardId, IdError, PersonId, TerminalId};
use std::collections::BTreeMap;

const UUID_V7: &str = "0192f0c1-7a2b-7c3d-8e4f-0123456789ab";

#[test]
fn person_id_is_a_uuid_v7() {
    let id = PersonId::parse(UUID_V7).unwrap();
    assert_eq!(id.as_str(), UUID_V7);
    assert_eq!(id.to_string(), UUID_V7);
    assert_eq!(PersonId::parse(&format!("  {}  ", UUID_V7.to_uppercase())).unwrap(), id);
    for bad in [
        "",
        "p1",
        "0192f0c17a2b7c3d8e4f0123456789ab",      // no hyphens
        "0192f0c1-7a2b-4c3d-8e4f-0123456789ab",  // version 4
        "0192f0c1-7a2b-7c3d-ce4f-0123456789ab",  // variant c
        "0192f0c1-7a2b-7c3d-8e4f-0123456789a",   // short
        "0192f0c1-7a2b-7c3d-8e4f-0123456789abc", // long
        "0192f0c1-7a2b-7c3d-8e4f-0123456789ag",  // not hex
        "0192f0c1_7a2b-7c3d-8e4f-0123456789ab",  // wrong separator
    ] {
        assert!(matches!(PersonId::parse(bad), Err(IdError::PersonId { .. })), "{bad:?}");
    }
}

#[test]
fn terminal_id_is_t_and_a_uuid_v7() {
    let text = format!("T-{UUID_V7}");
    let id = TerminalId::parse(&text).unwrap();
    assert_eq!(id.as_str(), text);
    assert_eq!(TerminalId::parse(&format!("t-{}", UUID_V7.to_uppercase())).unwrap(), id);
    for bad in [String::new(), UUID_V7.to_owned(), format!("X-{UUID_V7}"), format!("T-{}", &UUID_V7[1..]), "T-".into()]
    {
        assert!(matches!(TerminalId::parse(&bad), Err(IdError::TerminalId { .. })), "{bad:?}");
    }
}

#[test]
fn ecard_id_is_32_hex_digits() {
    let text = "00112233445566778899aabbccddeeff";
    let id = EcardId::parse(text).unwrap();
    assert_eq!(id.as_str(), text);
    assert_eq!(EcardId::parse(&text.to_uppercase()).unwrap(), id);
    for bad in
        ["", "00112233445566778899aabbccddeef", "00112233445566778899aabbccddeeff0", "00112233445566778899aabbccddeefg"]
    {
        assert!(matches!(EcardId::parse(bad), Err(IdError::EcardId { .. })), "{bad:?}");
    }
}

#[test]
fn stored_ids_are_taken_as_they_are_and_serde_is_transparent() {
    // Rows written under older rules stay readable.
    assert_eq!(PersonId::from_stored("p1").as_str(), "p1");
    assert_eq!(TerminalId::from("gate1".to_string()).as_str(), "gate1");
    let id = EcardId::from_stored("e1");
    assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!("e1"));
    assert_eq!(serde_json::from_value::<EcardId>(serde_json::json!("e1")).unwrap(), id);
}

#[test]
fn ids_key_maps_and_are_found_by_their_text() {
    let mut m = BTreeMap::new();
    m.insert(PersonId::from_stored("b"), 2);
    m.insert(PersonId::from_stored("a"), 1);
    assert_eq!(m.get("a"), Some(&1));
    assert_eq!(m.keys().map(PersonId::as_str).collect::<Vec<_>>(), ["a", "b"]);
}
