//! Issuer keys and tokens: the public key list, rotation (a rotated-out key verifies until its
//! not_after and is refused after), tampering with any byte, OpenSSL verifying the signature,
//! the PNG and SVG renderings, and the master key file (0600, no plain private key anywhere).

use crate::helpers::TestApp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sscard_domain::access::Role;
use sscard_gm::token::decode_token;
use sscard_server::keys::{KeyManager, MasterKey};

#[tokio::test]
async fn keys_are_public_and_rotation_keeps_the_old_key_until_its_not_after() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let keys = app.get(None, "/ecard/keys").await.expect(200).json.clone();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    let k1 = &keys[0];
    assert_eq!(k1["key_id"], 1);
    assert!(k1["public_key_pem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(k1["not_before"].as_i64().unwrap() <= app.now_s());
    assert!(k1["not_after"].as_i64().unwrap() >= app.now_s() + 364 * 86_400);
    assert!(!app.get(None, "/ecard/keys").await.bytes.windows(7).any(|w| w == b"PRIVATE"));

    let old = app.qr_token(&h.token).await;
    assert_eq!(decode_token(&old).unwrap().claims().key_id, 1);
    // Rotate: key 2 signs from now on; key 1 is retired 30 s from now.
    let ctx = crate::helpers::ctx(app.now_ms());
    let row = app.keys.rotate(app.store.as_ref(), &ctx, Some(30)).await.unwrap();
    assert_eq!(row.key_id, 2);
    let keys = app.get(None, "/ecard/keys").await.expect(200).json.clone();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert_eq!(keys[0]["not_after"], app.now_s() + 30);
    let new = app.qr_token(&h.token).await;
    assert_eq!(decode_token(&new).unwrap().claims().key_id, 2);

    // Before key 1's not_after both verify.
    app.advance_s(20);
    assert_eq!(app.verify(&old).await["valid"], true);
    assert_eq!(app.verify(&new).await["valid"], true);
    // A one-card terminal judges the QR code by the same rule.
    let op = json!({ "code": "XM-GOV", "name": "XM-GOV", "kind": "agency", "region": "350203" });
    app.post(Some(&app.tokens.admin), "/operators", &op).await.expect(201);
    let t = json!({ "operator": "XM-GOV", "scenario": "identity", "region": "350203", "scope": ["region"] });
    let desk = app.post(Some(&app.tokens.admin), "/terminals", &t).await.expect(201).json["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let identify = |qr: String| {
        let (app, desk) = (&app, desk.clone());
        async move { app.post(Some(&desk), "/identity/verify", &json!({ "token": qr })).await }
    };
    identify(old.clone()).await.expect(200);
    // After it (token itself not yet expired: 60 s ttl), key 1's token is refused, online and
    // at the one-card terminal.
    app.advance_s(45);
    let v = app.verify(&old).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "key_not_valid");
    assert_eq!(app.verify(&new).await["valid"], true);
    let refused = identify(old.clone()).await;
    assert_eq!((refused.status, refused.code()), (422, "key_not_valid".to_string()), "{:?}", refused.json);
    identify(new.clone()).await.expect(200);
    // And every token is refused once expired beyond the 30 s skew.
    app.advance_s(60);
    assert_eq!(app.verify(&new).await["reason"], "expired");
}

#[tokio::test]
async fn tampering_with_any_byte_is_refused() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let token = app.qr_token(&h.token).await;
    let bytes = *decode_token(&token).unwrap().as_bytes();
    assert_eq!(app.verify(&token).await["valid"], true);
    for i in 0..bytes.len() {
        let mut t = bytes;
        t[i] ^= 0x01;
        let text = format!("SSC1.{}", URL_SAFE_NO_PAD.encode(t));
        let v = app.verify(&text).await;
        assert_eq!(v["valid"], false, "byte {i} flipped was accepted");
        let reason = v["reason"].as_str().unwrap();
        assert!(sscard_gm::offline::Rejection::CODES.contains(&reason), "byte {i}: {reason}");
    }
    // Garbage is a verdict too, not an error.
    assert_eq!(app.verify("SSC1.AAAA").await["reason"], "malformed");
    assert_eq!(app.verify("hello").await["reason"], "malformed");
    // Only staff and terminals may verify.
    let r = app.post(Some(&h.token), "/ecard/verify", &json!({ "token": token })).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.post(None, "/ecard/verify", &json!({ "token": token })).await.status, 401);
}

#[tokio::test]
async fn openssl_verifies_the_token_signature() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl is not installed, so the interop check cannot run");
        return;
    }
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let token = app.qr_token(&h.token).await;
    let keys = app.get(None, "/ecard/keys").await.expect(200).json.clone();
    let parsed = decode_token(&token).unwrap();
    let dir = std::env::temp_dir().join(format!("sscard-openssl-{}", parsed.claims().nonce));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pub.pem"), keys[0]["public_key_pem"].as_str().unwrap()).unwrap();
    std::fs::write(dir.join("msg"), parsed.signed_bytes()).unwrap();
    std::fs::write(dir.join("sig.der"), sscard_gm::sm2::signature_to_der(parsed.signature()).unwrap()).unwrap();
    let mut tampered = parsed.signed_bytes().to_vec();
    tampered[21] ^= 1;
    std::fs::write(dir.join("bad"), tampered).unwrap();
    let run = |msg: &str| {
        std::process::Command::new("openssl")
            .args(["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-pubin"])
            .arg("-inkey")
            .arg(dir.join("pub.pem"))
            .arg("-in")
            .arg(dir.join(msg))
            .arg("-sigfile")
            .arg(dir.join("sig.der"))
            .output()
            .unwrap()
    };
    let ok = run("msg");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Signature Verified Successfully"));
    assert!(!run("bad").status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn qr_renders_as_svg_and_png() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let qr = app.qr(&h.token, None).await.expect(200).json.clone();
    assert_eq!(qr["ttl_s"], 60);
    let token = qr["token"].as_str().unwrap();
    assert_eq!(qr["expires_at"], decode_token(token).unwrap().claims().issued_at + 60);
    assert_eq!(decode_token(token).unwrap().claims().issued_at, app.now_s());
    assert!(qr["svg"].as_str().unwrap().contains("<svg"));
    let png_url = qr["png_url"].as_str().unwrap();
    assert!(png_url.starts_with("/api/v1/ecard/qr.png?token=SSC1."));
    let base = &app.address;
    let png = app.send(app.client.get(format!("{base}{png_url}"))).await;
    assert_eq!(png.status, 200);
    assert_eq!(png.content_type(), "image/png");
    assert_eq!(&png.bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png.bytes[png.bytes.len() - 8..png.bytes.len() - 4], b"IEND");
    assert_eq!(app.get(None, "/ecard/qr.png?token=nonsense").await.status, 400);
    // The flags: an adult, not retired, formal card.
    let c = *decode_token(token).unwrap().claims();
    assert_eq!((c.flags.retired, c.flags.minor, c.flags.temporary), (false, false, false));
    assert_eq!(c.region, 350_203);
    assert_eq!(c.status, 1);
}

#[tokio::test]
async fn master_key_file_is_private_and_no_private_key_is_stored_in_plain() {
    let db = sscard_store_sql::sqlite::TempDatabase::new();
    let url = db.url();
    let key_file = std::path::PathBuf::from(format!("{}.master.key", db.path.display()));
    // The default location beside the SQLite file (as `sscard serve` uses when the env var is unset).
    assert_eq!(sscard_server::keys::default_key_file(&url), Some(key_file.clone()));
    let master = MasterKey::from_file(&key_file).unwrap();
    let store = sscard_store_sql::open(&url, master.data_keys()).await.unwrap();
    let keys = KeyManager::new(&master);
    let ring = keys.ensure(store.as_ref(), 1_780_000_000_000).await.unwrap();
    let (_, signer) = ring.signer_at(1_780_000_000).unwrap();
    let secret = signer.to_secret_bytes();
    let pem = signer.to_pkcs8_pem();
    store.close().await;

    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!text.contains("PRIVATE"));

    let mut on_disk = std::fs::read(&db.path).unwrap();
    on_disk.extend(std::fs::read(format!("{}-wal", db.path.display())).unwrap_or_default());
    let contains = |needle: &[u8]| on_disk.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"PRIVATE KEY"));
    assert!(!contains(&secret[..]), "the raw private scalar is on disk");
    assert!(!contains(hex::encode(&secret[..]).as_bytes()), "the private scalar is on disk in hex");
    assert!(!contains(pem.as_bytes()));

    // The same file opens the keys again; another master key cannot.
    let store = sscard_store_sql::open(&url, master.data_keys()).await.unwrap();
    let again = KeyManager::new(&MasterKey::from_file(&key_file).unwrap());
    assert_eq!(again.reload(store.as_ref()).await.unwrap().published.len(), 1);
    let wrong = KeyManager::ephemeral();
    assert!(matches!(wrong.reload(store.as_ref()).await, Err(sscard_server::keys::KeyError::CannotOpen(1))));
    store.close().await;
    std::fs::remove_file(&key_file).unwrap();
}

#[test]
fn postgres_without_a_master_key_is_refused_clearly() {
    if std::env::var(sscard_server::keys::MASTER_KEY_ENV).is_ok() {
        eprintln!("SKIPPED: SSCARD_MASTER_KEY is set in this environment");
        return;
    }
    let err = MasterKey::load("postgres://u@localhost/sscard", None).unwrap_err().to_string();
    assert!(err.contains("SSCARD_MASTER_KEY") && err.contains("--master-key-file"), "{err}");
}
