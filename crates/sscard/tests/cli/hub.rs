//! `sscard hub add-deployment` prints a secret once, `sscard hub deployments` lists the
//! deployment without it, and the secret then authenticates at `sscard serve --hub`.

use crate::helpers::{Db, command, err, free_port, ok, run};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn add_deployment_prints_a_secret_that_authenticates_at_the_hub() {
    let db = Db::new();
    let args = [
        "hub",
        "add-deployment",
        "--code",
        "XM",
        "--name",
        "Xiamen",
        "--regions",
        "3502,3505",
        "--url",
        "https://xm.example",
    ];
    let secret = ok(&run(&db, &args)).trim().to_string();
    let (code, hex) = secret.split_once('.').expect("CODE.SECRET");
    assert_eq!(code, "XM");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    // The same code again is refused; a bad field is named.
    let again = run(&db, &args);
    assert_ne!(again.status.code(), Some(0));
    assert!(err(&again).contains("already registered"), "{}", err(&again));
    let bad =
        run(&db, &["hub", "add-deployment", "--code", "xm", "--name", "X", "--regions", "3502", "--url", "https://x"]);
    assert!(err(&bad).contains("bad code"), "{}", err(&bad));

    let listed = ok(&run(&db, &["hub", "deployments"]));
    assert_eq!(listed.trim(), "XM\t3502,3505\thttps://xm.example\tXiamen");
    assert!(!listed.contains(hex));

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = command(&db, &["serve", "--hub", "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sscard serve --hub");
    let started = Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "sscard serve --hub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let get = |bearer: &str| {
        rt.block_on(async {
            let resp = reqwest::Client::new()
                .get(format!("http://{listen}/api/v1/hub/index-key"))
                .bearer_auth(bearer)
                .send()
                .await
                .expect("GET index-key");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        })
    };
    let (status, body) = get(&secret);
    let (wrong, _) = get(&format!("XM.{}", "0".repeat(64)));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("key_hex"), "{body}");
    assert_eq!(wrong, 401);
}
