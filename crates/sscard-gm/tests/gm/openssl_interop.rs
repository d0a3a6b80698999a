//! Interoperability with OpenSSL 3: our signatures verify with
//! `openssl pkeyutl -verify`, and OpenSSL's verify with our code. Skipped
//! (with a message) when `openssl` is not on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use sscard_gm::sm2::{DEFAULT_DIST_ID, SigningKey, VerifyingKey, signature_from_der};

fn openssl_available() -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("openssl not found on PATH: skipping OpenSSL interop test");
            false
        }
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "sscard-gm-{tag}-{}-{}",
            std::process::id(),
            sscard_gm::rand::random_token()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    if !out.status.success() {
        eprintln!(
            "openssl {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn distid_opt() -> String {
    format!("distid:{DEFAULT_DIST_ID}")
}

#[test]
fn openssl_verifies_our_signatures() {
    if !openssl_available() {
        return;
    }
    let dir = TempDir::new("ours");
    let key = SigningKey::generate();
    std::fs::write(dir.path("pub.pem"), key.verifying_key().to_spki_pem()).unwrap();
    let msg = b"sscard e-card token body 0..45 bytes, or anything";
    std::fs::write(dir.path("msg"), msg).unwrap();
    std::fs::write(dir.path("sig.der"), key.sign_der(msg)).unwrap();
    let distid = distid_opt();
    let verify = [
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", &distid, "-pubin", "-inkey", "pub.pem", "-in",
        "msg", "-sigfile", "sig.der",
    ];
    let out = openssl(&verify, &dir.0);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));

    // A raw r||s signature converted to DER verifies too.
    let raw = key.sign(msg);
    std::fs::write(dir.path("sig.der"), sscard_gm::sm2::signature_to_der(&raw).unwrap()).unwrap();
    assert!(openssl(&verify, &dir.0).status.success());

    // And OpenSSL refuses a different message.
    std::fs::write(dir.path("msg"), b"another message").unwrap();
    let out = Command::new("openssl").args(verify).current_dir(&dir.0).output().unwrap();
    assert!(!out.status.success(), "OpenSSL accepted a signature over another message");

    // OpenSSL can also read our private key.
    std::fs::write(dir.path("priv.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
    let out = openssl(&["pkey", "-in", "priv.pem", "-pubout"], &dir.0);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), key.verifying_key().to_spki_pem());
}

#[test]
fn we_verify_openssl_signatures() {
    if !openssl_available() {
        return;
    }
    let dir = TempDir::new("theirs");
    assert!(openssl(&["genpkey", "-algorithm", "SM2", "-out", "priv.pem"], &dir.0).status.success());
    assert!(openssl(&["pkey", "-in", "priv.pem", "-pubout", "-out", "pub.pem"], &dir.0).status.success());
    let msg = b"signed by openssl";
    std::fs::write(dir.path("msg"), msg).unwrap();
    let distid = distid_opt();
    let sign = [
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", &distid, "-inkey", "priv.pem", "-in", "msg",
        "-out", "sig.der",
    ];
    let pub_pem = std::fs::read_to_string(dir.path("pub.pem")).unwrap();
    let vk = VerifyingKey::from_spki_pem(&pub_pem).unwrap();
    // Several signatures: OpenSSL's DER varies in length with leading zeros.
    for _ in 0..8 {
        assert!(openssl(&sign, &dir.0).status.success());
        let der = std::fs::read(dir.path("sig.der")).unwrap();
        vk.verify_der(msg, &der).unwrap();
        vk.verify(msg, &signature_from_der(&der).unwrap()).unwrap();
        assert!(vk.verify_der(b"signed by openssL", &der).is_err());
    }

    // We read OpenSSL's PKCS#8 private key and sign for its public key.
    let priv_pem = std::fs::read_to_string(dir.path("priv.pem")).unwrap();
    let key = SigningKey::from_pkcs8_pem(&priv_pem).unwrap();
    assert_eq!(key.verifying_key(), &vk);
    vk.verify(msg, &key.sign(msg)).unwrap();

    // A signature made with OpenSSL's default (empty) ID does not verify
    // under ours: the distid must match.
    let sign_empty_id =
        ["pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "priv.pem", "-in", "msg", "-out", "sig_empty.der"];
    if openssl(&sign_empty_id, &dir.0).status.success() {
        let der = std::fs::read(dir.path("sig_empty.der")).unwrap();
        assert!(vk.verify_der(msg, &der).is_err());
    }
}
