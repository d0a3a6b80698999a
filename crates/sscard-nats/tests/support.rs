//! A real nats-server per test, on a free loopback port with its own store dir.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

pub struct NatsServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// The binary, or None (skip) when it is missing outside CI; in CI a missing server fails.
pub fn nats_server_or_skip() -> Option<&'static str> {
    if std::path::Path::new(NATS_SERVER).exists() {
        return Some(NATS_SERVER);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{NATS_SERVER} is missing and CI=true: install nats-server");
    }
    eprintln!("skipped: {NATS_SERVER} is missing (install the Debian package nats-server)");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl NatsServer {
    pub fn start() -> Option<Self> {
        nats_server_or_skip()?;
        let dir = std::env::temp_dir().join(format!("sscard-nats-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("store dir");
        let mut s = NatsServer { port: free_port(), dir, child: None };
        s.spawn();
        Some(s)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new(NATS_SERVER)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no goodbye, whatever was in flight is lost on the wire.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill nats-server");
            c.wait().expect("wait nats-server");
        }
    }

    /// Starts again on the same port and store dir.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
