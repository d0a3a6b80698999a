//! A small nation end to end with the real binary: its own `nats-server -js`, a hub
//! (`sscard serve --hub`) and two deployments XM (3502) and FZ (3501), each with its own SQLite
//! database, all on loopback. A person with an active card in FZ applies at XM: XM's approve
//! answers `awaiting_remote_stop`, FZ's card is stopped (reason moved), XM's application is
//! approved; then the same with the hub SIGKILLed while the remote stop is pending. Both
//! deployments' cards of the person are polled throughout: never two live cards.

mod faults;
mod trust;

use crate::helpers::{Db, command, free_port, ok, sscard};
use serde_json::{Value, json};
use sscard_domain::document::make_resident_id;
use sscard_domain::ids::RegionCode;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const NATS_SERVER: &str = "/usr/sbin/nats-server";
const PASSWORD: &str = "correct horse battery staple 7";
const PIN: &str = "739164";
/// How long a remote stop may take end to end on loopback before the test fails.
const REMOTE_STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// A nats-server of the test's own, killed and its store removed on drop.
struct Nats {
    port: u16,
    dir: PathBuf,
    child: Child,
}

impl Nats {
    /// None (skip) when the binary is missing outside CI; under CI=true a missing one fails.
    fn start() -> Option<Nats> {
        if !std::path::Path::new(NATS_SERVER).exists() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{NATS_SERVER} is missing and CI=true");
            eprintln!("skipped: {NATS_SERVER} is missing (Debian package nats-server)");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("sscard-cli-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("nats store dir");
        let child = std::process::Command::new(NATS_SERVER)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        wait_listening(port, "nats-server");
        Some(Nats { port, dir, child })
    }
    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_listening(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One plain HTTP/1.0 `GET /api/v1/health`; true on a 200.
fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    if conn.write_all(b"GET /api/v1/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// A running `sscard serve`, SIGKILLed on drop.
struct Server {
    port: u16,
    child: Child,
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start(db: &Db, port: u16, args: &[&str], secret: Option<&str>, name: &str) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = command(db, &["serve", "--listen", &listen]);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
    cmd.env("SSCARD_LOG", "warn,sscard=info");
    if let Some(s) = secret {
        cmd.env("SSCARD_HUB_SECRET", s);
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
    let mut server = Server { port, child };
    wait_answering(&mut server, name);
    server
}

/// Waits for `GET /api/v1/health`: the port is bound before the database and the QR keys are
/// ready (about 25 s in a debug build), and a deployment starting meanwhile finds no hub.
fn wait_answering(server: &mut Server, what: &str) {
    let (started, port) = (Instant::now(), server.port);
    loop {
        if health(port) {
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("{what} exited before answering: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{what} did not answer on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One deployment's database with a bank, a branch of `region` and its staff.
struct Deployment {
    code: &'static str,
    db: Db,
    port: u16,
}

impl Deployment {
    fn new(code: &'static str, region: &'static str, branch: &'static str) -> Deployment {
        Deployment::on(Db::sqlite(), code, region, branch)
    }
    fn on(db: Db, code: &'static str, region: &'static str, branch: &'static str) -> Deployment {
        let d = Deployment { code, db, port: free_port() };
        ok(&sscard(&d.db, &["bank", "add", "--code", "ICBC", "--name", "工商银行", "--bin", "622202"], None));
        let branch_args = ["branch", "add", "--bank-code", "ICBC", "--code", branch, "--region", region];
        ok(&sscard(&d.db, &branch_args, None));
        for (user, role, bank) in
            [("admin", "admin", None), ("clerk", "clerk", None), ("teller", "teller", Some("ICBC"))]
        {
            let mut args = vec!["user", "add", "--username", user, "--role", role, "--password-stdin"];
            if let Some(b) = bank {
                args.extend(["--bank-code", b]);
            }
            ok(&sscard(&d.db, &args, Some(PASSWORD)));
        }
        d
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn start(&self, hub: &str, nats: &str, secret: &str) -> Server {
        let args = ["--deployment", self.code, "--hub-url", hub, "--nats-url", nats];
        start(&self.db, self.port, &args, Some(secret), self.code)
    }
}

/// An HTTP client of one deployment, logged in as its staff.
#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
    clerk: String,
    teller: String,
    admin: String,
}

impl Api {
    async fn login(base: String) -> Api {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
        let mut tokens = Vec::new();
        for user in ["clerk", "teller", "admin"] {
            let (status, body) = send(
                http.post(format!("{base}/api/v1/auth/login")).json(&json!({"username": user, "password": PASSWORD})),
            )
            .await;
            assert_eq!(status, 200, "login {user} at {base}: {body}");
            tokens.push(body["token"].as_str().expect("token").to_string());
        }
        let [clerk, teller, admin] = <[String; 3]>::try_from(tokens).expect("three tokens");
        Api { base, http, clerk, teller, admin }
    }
    async fn post(&self, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.post(format!("{}/api/v1{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        send(self.http.get(format!("{}/api/v1{path}", self.base)).bearer_auth(&self.admin)).await
    }
    /// Registers the holder of `doc` in `region`; answers the person id.
    async fn register(&self, doc: &str, region: &str) -> String {
        let body = json!({"doc_type": "resident_id", "doc_number": doc, "name": "林迁", "region": region});
        let (status, person) = self.post(&self.teller, "/persons", Some(body)).await;
        assert_eq!(status, 201, "register at {}: {person}", self.base);
        person["id"].as_str().expect("person id").to_string()
    }
    /// Takes a first application at `branch`; answers its id.
    async fn apply(&self, person: &str, branch: &str) -> String {
        let body = json!({"person_id": person, "kind": "first", "channel": "branch", "bank_code": "ICBC", "branch_code": branch});
        let (status, app) = self.post(&self.teller, "/applications", Some(body)).await;
        assert_eq!(status, 201, "apply at {}: {app}", self.base);
        app["id"].as_str().expect("application id").to_string()
    }
    async fn step(&self, token: &str, app: &str, step: &str) -> Value {
        let (status, body) = self.post(token, &format!("/applications/{app}/{step}"), None).await;
        assert_eq!(status, 200, "{step} at {}: {body}", self.base);
        body
    }
    /// approve, produce, ready, collect, activate: the person's active card number.
    async fn active_card(&self, person: &str, branch: &str) -> String {
        let app = self.apply(person, branch).await;
        let approved = self.step(&self.clerk, &app, "approve").await;
        assert_eq!(approved["status"], "approved", "{approved}");
        for s in ["produce", "ready"] {
            self.step(&self.teller, &app, s).await;
        }
        let done = self.step(&self.teller, &app, "collect").await;
        let card = done["card_no"].as_str().expect("card_no").to_string();
        let (status, body) =
            self.post(&self.teller, &format!("/cards/{card}/activate"), Some(json!({"pin": PIN}))).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("active")), "{body}");
        card
    }
    /// The person's cards (status per card number).
    async fn cards(&self, person: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/persons/{person}/cards")).await;
        assert_eq!(status, 200, "cards at {}: {body}", self.base);
        body.as_array().cloned().unwrap_or_default()
    }
    async fn application(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/applications/{id}")).await;
        assert_eq!(status, 200, "application at {}: {body}", self.base);
        body
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("HTTP request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn live(cards: &[Value]) -> usize {
    cards.iter().filter(|c| matches!(c["status"].as_str(), Some("active" | "suspended"))).count()
}

/// Polls both deployments' cards of the person until stopped; records the most live cards seen.
struct Watch {
    stop: Arc<AtomicBool>,
    most: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

fn watch(a: (Api, String), b: (Api, String)) -> Watch {
    let (stop, most) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let (s, m) = (Arc::clone(&stop), Arc::clone(&most));
    let task = tokio::spawn(async move {
        while !s.load(Ordering::SeqCst) {
            let n = live(&a.0.cards(&a.1).await) + live(&b.0.cards(&b.1).await);
            m.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });
    Watch { stop, most, task }
}

impl Watch {
    async fn most(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.expect("the watcher");
        self.most.load(Ordering::SeqCst)
    }
}

/// Waits until FZ's card is stopped and XM's application approved; panics after the timeout.
async fn until_moved(fz: &Api, fz_person: &str, card: &str, xm: &Api, xm_app: &str) -> Duration {
    let started = Instant::now();
    loop {
        let cards = fz.cards(fz_person).await;
        let old = cards.iter().find(|c| c["card_no"] == card).cloned().unwrap_or_default();
        let app = xm.application(xm_app).await;
        if old["status"] == "stopped" && app["status"] == "approved" {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < REMOTE_STOP_TIMEOUT,
            "no remote stop within {REMOTE_STOP_TIMEOUT:?}: FZ card {old}, XM application {}",
            app["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Nation {
    nats: Nats,
    hub_db: Db,
    hub_port: u16,
    hub: Server,
    xm: Deployment,
    fz: Deployment,
    /// XM's and FZ's servers, in this order.
    servers: Vec<Server>,
    /// XM's and FZ's hub secrets, to start them again.
    secrets: Vec<String>,
}

impl Nation {
    fn start() -> Option<Nation> {
        let nats = Nats::start()?;
        let hub_db = Db::sqlite();
        let xm = Deployment::new("XM", "350203", "ICBC-XM");
        let fz = Deployment::new("FZ", "350102", "ICBC-FZ");
        Some(Nation::launch(nats, hub_db, xm, fz))
    }
    /// Registers both deployments at the hub, then starts the hub and the deployments.
    fn launch(nats: Nats, hub_db: Db, xm: Deployment, fz: Deployment) -> Nation {
        let hub_port = free_port();
        let mut secrets = Vec::new();
        for (d, name, regions) in [(&xm, "Xiamen", "3502"), (&fz, "Fuzhou", "3501")] {
            let args =
                ["hub", "add-deployment", "--code", d.code, "--name", name, "--regions", regions, "--url", &d.url()];
            secrets.push(ok(&sscard(&hub_db, &args, None)).trim().to_string());
        }
        let hub = start_hub(&hub_db, hub_port, &nats.url());
        let servers =
            vec![xm.start(&hub.url(), &nats.url(), &secrets[0]), fz.start(&hub.url(), &nats.url(), &secrets[1])];
        Nation { nats, hub_db, hub_port, hub, xm, fz, servers, secrets }
    }
    fn kill_hub(&mut self) {
        self.hub.kill();
    }
    fn restart_hub(&mut self) {
        self.hub = start_hub(&self.hub_db, self.hub_port, &self.nats.url());
    }
}

fn start_hub(db: &Db, port: u16, nats: &str) -> Server {
    start(db, port, &["--hub", "--nats-url", nats], None, "the hub")
}

/// A holder with an active card in FZ, the same SSN registered at XM; answers
/// (FZ person, FZ card, XM person).
async fn moved_holder(fz: &Api, xm: &Api, seq: u16) -> (String, String, String) {
    let birth = time::macros::date!(1979 - 03 - 08);
    let doc = make_resident_id(RegionCode::parse("350102").expect("region"), birth, seq);
    let fz_person = fz.register(&doc, "350102").await;
    let card = fz.active_card(&fz_person, "ICBC-FZ").await;
    let xm_person = xm.register(&doc, "350203").await;
    (fz_person, card, xm_person)
}

/// XM's approve of the moved holder's application: awaiting_remote_stop (the hub holds FZ).
async fn approve_waits(xm: &Api, xm_person: &str) -> String {
    let app = xm.apply(xm_person, "ICBC-XM").await;
    let (status, body) = xm.post(&xm.clerk, &format!("/applications/{app}/approve"), None).await;
    assert_eq!(status, 200, "approve at XM: {body}");
    assert_eq!(body["status"], "awaiting_remote_stop", "{body}");
    app
}

/// With SSCARD_NATION_ROUNDS=N (at most 500): N more remote stops, one at a time, timed from
/// XM's approve to FZ's card stopped and XM's application approved; prints median and p99.
async fn latency_rounds(fz: &Api, xm: &Api) {
    let rounds: u16 = std::env::var("SSCARD_NATION_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(0).min(500);
    let mut took = Vec::new();
    for i in 0..rounds {
        let (fz_person, card, xm_person) = moved_holder(fz, xm, 401 + 2 * i).await;
        let app = xm.apply(&xm_person, "ICBC-XM").await;
        let started = Instant::now();
        let (status, body) = xm.post(&xm.clerk, &format!("/applications/{app}/approve"), None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("awaiting_remote_stop")), "{body}");
        until_moved(fz, &fz_person, &card, xm, &app).await;
        took.push(started.elapsed());
    }
    took.sort();
    if let (Some(median), Some(p99)) =
        (took.get(took.len() / 2), took.get((took.len() * 99).div_ceil(100).saturating_sub(1)))
    {
        eprintln!("remote stop over {rounds} rounds: median {median:?}, p99 {p99:?}, max {:?}", took.last());
    }
}

#[test]
fn a_moved_holder_keeps_one_live_card_even_when_the_hub_is_killed() {
    let Some(mut nation) = Nation::start() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let xm = Api::login(nation.xm.url()).await;
        let fz = Api::login(nation.fz.url()).await;

        // The plain case.
        let (fz_person, card, xm_person) = moved_holder(&fz, &xm, 301).await;
        let w = watch((fz.clone(), fz_person.clone()), (xm.clone(), xm_person.clone()));
        let app = approve_waits(&xm, &xm_person).await;
        let took = until_moved(&fz, &fz_person, &card, &xm, &app).await;
        eprintln!("remote stop end to end: {took:?}");
        let old = fz.cards(&fz_person).await.into_iter().find(|c| c["card_no"] == card.as_str()).unwrap_or_default();
        assert!(old["cancel_reason"].is_null() || old["cancel_reason"] == "moved", "{old}");
        assert!(w.most().await <= 1, "two live cards seen at once");

        // The hub SIGKILLed right after the claim, while the remote stop is pending, then restarted.
        let (fz_person, card, xm_person) = moved_holder(&fz, &xm, 303).await;
        let w = watch((fz.clone(), fz_person.clone()), (xm.clone(), xm_person.clone()));
        let app = approve_waits(&xm, &xm_person).await;
        nation.kill_hub();
        tokio::time::sleep(Duration::from_millis(500)).await;
        nation.restart_hub();
        until_moved(&fz, &fz_person, &card, &xm, &app).await;
        assert!(w.most().await <= 1, "two live cards seen at once");
        latency_rounds(&fz, &xm).await;
    });
    // The hub signs no QR code: started twice, it made no issuer key of its own.
    let hub_keys = ok(&sscard(&nation.hub_db, &["keys", "list"], None));
    assert!(hub_keys.trim().is_empty(), "the hub made a QR issuer key: {hub_keys}");
    drop(nation.servers.drain(..));
}
