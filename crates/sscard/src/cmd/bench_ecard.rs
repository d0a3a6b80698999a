//! `sscard bench crypto` and `sscard bench http`: ratios measured side by side
//! in one run, because absolute rates drift on shared machines.
//!
//! * crypto: QR token sign/s and verify/s of sscard-gm next to `openssl speed -seconds N sm2
//!   ecdsap256` run in the same invocation (single thread each).
//! * http: the server on a throw-away SQLite database on 127.0.0.1:0; requests per second of
//!   `POST /api/v1/ecard/verify` against `GET /api/v1/health` (the no-op baseline) with N
//!   concurrent keep-alive clients for a fixed, bounded duration.

use super::bench::setup;
use super::cli_ctx;
use anyhow::Context;
use sscard_domain::access::Role;
use sscard_domain::policy::Policy;
use sscard_server::AppState;
use sscard_store::Store;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Goal of the HTTP ratio (verify / health).
pub const HTTP_GOAL: f64 = 0.5;
/// Alternating rounds of the HTTP comparison.
const ROUNDS: usize = 3;

/// sign/s and verify/s of one `openssl speed` line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedLine {
    pub sign: f64,
    pub verify: f64,
}

/// Finds the line naming `what` (e.g. "SM2", "nistp256") in `openssl speed` output: its last
/// two fields are sign/s and verify/s.
pub fn parse_speed(output: &str, what: &str) -> Option<SpeedLine> {
    output.lines().filter(|l| l.contains(what) && l.contains("bits")).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let n = f.len();
        if n < 2 {
            return None;
        }
        Some(SpeedLine { sign: f[n - 2].parse().ok()?, verify: f[n - 1].parse().ok()? })
    })
}

pub fn crypto(seconds: u64) -> anyhow::Result<ExitCode> {
    let seconds = seconds.clamp(1, 60);
    eprintln!("sscard-gm token sign and verify, {seconds} s each ...");
    let ours = sscard_gm::bench::measure_tokens(Duration::from_secs(seconds));
    eprintln!("openssl speed -seconds {seconds} sm2 ecdsap256 ...");
    let openssl =
        Command::new("openssl").args(["speed", "-seconds", &seconds.to_string(), "sm2", "ecdsap256"]).output();
    println!("{:<36} {:>12} {:>12}", "", "sign/s", "verify/s");
    println!("{:<36} {:>12.0} {:>12.0}", "sscard-gm QR token (SM2, 1 thread)", ours.sign_per_s, ours.verify_per_s);
    let out = match openssl {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            println!("openssl speed failed ({}): no comparison", o.status);
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            println!("openssl is not available ({e}): no comparison with OpenSSL in this run");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let sm2 = parse_speed(&out, "SM2");
    let p256 = parse_speed(&out, "nistp256");
    for (name, line) in [("OpenSSL SM2", sm2), ("OpenSSL ECDSA P-256", p256)] {
        match line {
            Some(l) => println!("{name:<36} {:>12.0} {:>12.0}", l.sign, l.verify),
            None => println!("{name:<36} (not found in the openssl speed output)"),
        }
    }
    if let Some(l) = sm2 {
        println!(
            "{:<36} {:>11.2}x {:>11.2}x   (goals: sign >= 3x, verify >= 1.3x)",
            "token / OpenSSL SM2",
            ours.sign_per_s / l.sign,
            ours.verify_per_s / l.verify
        );
    }
    if let Some(l) = p256 {
        println!(
            "{:<36} {:>11.2}x {:>11.2}x",
            "token / OpenSSL P-256",
            ours.sign_per_s / l.sign,
            ours.verify_per_s / l.verify
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let json: serde_json::Value = resp.json().await.with_context(|| format!("POST {url}: not JSON"))?;
    if !status.is_success() {
        anyhow::bail!("POST {url}: {status}: {json}");
    }
    Ok(json)
}

/// Runs `clients` loops of one request kind for `duration`; answers requests per second.
pub(super) async fn load(
    client: &reqwest::Client,
    clients: usize,
    duration: Duration,
    make: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
    expect: &'static [u8],
) -> anyhow::Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, stop, done, bad, make) = (client.clone(), stop.clone(), done.clone(), bad.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match make(&client).send().await {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) if b.windows(expect.len()).any(|w| w == expect) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    _ => {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let bad = bad.load(Ordering::Relaxed);
    if bad > 0 {
        anyhow::bail!("{bad} requests failed or gave a wrong answer");
    }
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
}

pub async fn http(seconds: u64, clients: usize, ecards: u32) -> anyhow::Result<ExitCode> {
    // Every verify phase must end while the QR tokens (60 s + 30 s skew) are still valid.
    let seconds = seconds.clamp(1, 12);
    let clients = clients.clamp(1, 256);
    let ecards = ecards.clamp(1, 5_000);
    let db = sscard_store_sql::sqlite::TempDatabase::new();
    let store: Arc<dyn Store> =
        Arc::new(sscard_store_sql::sqlite::open(&db.url(), sscard_store_sql::DataKeys::ephemeral()).await?);
    eprintln!("setting up {ecards} holders with active cards ...");
    let (password, holders) = add_users(store.as_ref(), ecards).await?;
    let (base, server) = serve(store.clone()).await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let terminal = login(&client, &base, "bench-terminal", &password).await?;
    eprintln!("QR codes of {ecards} holders ...");
    let bodies = qr_bodies(&client, &base, &holders, &password).await?;
    let verify_url = format!("{base}/ecard/verify");
    let cold = cold_pass(&client, &verify_url, &terminal, &bodies).await?;
    let verify = Verify { url: verify_url, terminal, bodies: Arc::new(bodies) };
    let rounds = http_rounds(&client, &base, &verify, clients, seconds).await?;
    server.abort();
    store.close().await;
    drop(db);
    print_http_report(ecards, clients, seconds, &rounds, cold);
    Ok(ExitCode::SUCCESS)
}

/// Sets up `ecards` holders with active cards, a login for each and one for a terminal, all
/// with one fresh password: the password and the holders' user names.
async fn add_users(store: &dyn Store, ecards: u32) -> anyhow::Result<(String, Vec<String>)> {
    let cards = setup(store, ecards).await?;
    let mut ctx = cli_ctx();
    ctx.hash_iterations = 1000;
    let password = sscard_gm::rand::random_token();
    sscard_app::admin::add_user(store, &ctx, "bench-terminal", &password, Role::Terminal, None, None).await?;
    let mut holders = Vec::with_capacity(cards.len());
    for (i, card_no) in cards.iter().enumerate() {
        let mut tx = store.read().await?;
        let card = tx.get_card(card_no, false).await?.context("a bench card vanished")?;
        tx.commit().await?;
        let name = format!("bench-holder-{i}");
        sscard_app::admin::add_user(store, &ctx, &name, &password, Role::Holder, Some(card.person_id), None).await?;
        holders.push(name);
    }
    Ok((password, holders))
}

/// Serves the HTTP API on a free local port: its base URL and the server task.
async fn serve(store: Arc<dyn Store>) -> anyhow::Result<(String, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let clock: Arc<dyn sscard_domain::clock::Clock> = Arc::new(sscard_server::clock::SystemClock);
    let mut state = AppState::new(store, clock, Policy::default());
    state.hash_iterations = 1000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = sscard_server::build_router(state);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((format!("http://{addr}/api/v1"), server))
}

/// Logs `user` in: the session token.
async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "username": user, "password": password });
    let answer = post_json(client, &format!("{base}/auth/login"), None, body).await?;
    Ok(answer["token"].as_str().context("no session token")?.to_string())
}

/// Each holder's QR token, as the body of a verify request.
async fn qr_bodies(
    client: &reqwest::Client,
    base: &str,
    holders: &[String],
    password: &str,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut bodies = Vec::with_capacity(holders.len());
    for name in holders {
        let session = login(client, base, name, password).await?;
        let qr = post_json(client, &format!("{base}/ecard/qr"), Some(&session), serde_json::json!({})).await?;
        let token = qr["token"].as_str().context("no QR token")?;
        bodies.push(serde_json::to_vec(&serde_json::json!({ "token": token }))?);
    }
    Ok(bodies)
}

/// One cold pass: every e-card is read from the database once, as on a first scan.
/// Verifies per second, one client.
async fn cold_pass(client: &reqwest::Client, url: &str, terminal: &str, bodies: &[Vec<u8>]) -> anyhow::Result<f64> {
    let started = Instant::now();
    for body in bodies {
        let answer: serde_json::Value = client
            .post(url)
            .bearer_auth(terminal)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["valid"] == true, "a bench token does not verify: {answer}");
    }
    Ok(bodies.len() as f64 / started.elapsed().as_secs_f64())
}

/// The verify requests: the URL, the terminal's session and the QR tokens in turn.
struct Verify {
    url: String,
    terminal: String,
    bodies: Arc<Vec<Vec<u8>>>,
}

/// The phases alternate (no-op, verify) for ROUNDS rounds, so a drift of the machine's
/// speed during the run shows as a spread of the ratios rather than a skewed one.
/// Each round's (health, verify) requests per second.
async fn http_rounds(
    client: &reqwest::Client,
    base: &str,
    verify: &Verify,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Vec<(f64, f64)>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let health_url = format!("{base}/health");
    let duration = Duration::from_secs(seconds);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        eprintln!(
            "round {round}/{ROUNDS}: GET /api/v1/health then POST /api/v1/ecard/verify, {clients} clients, {seconds} s each ..."
        );
        let url = health_url.clone();
        let health = load(client, clients, duration, Arc::new(move |c| c.get(&url)), b"\"ok\"").await?;
        let (url, bodies, next, terminal) =
            (verify.url.clone(), verify.bodies.clone(), next.clone(), verify.terminal.clone());
        let verify = load(
            client,
            clients,
            duration,
            Arc::new(move |c| {
                let body = bodies[next.fetch_add(1, Ordering::Relaxed) % bodies.len()].clone();
                c.post(&url).bearer_auth(&terminal).header("content-type", "application/json").body(body)
            }),
            b"\"valid\":true",
        )
        .await?;
        rounds.push((health, verify));
    }
    Ok(rounds)
}

fn print_http_report(ecards: u32, clients: usize, seconds: u64, rounds: &[(f64, f64)], cold: f64) {
    println!(
        "HTTP on 127.0.0.1, SQLite, {clients} keep-alive clients, {seconds} s per phase, {ROUNDS} rounds, one process"
    );
    println!("  POST /api/v1/ecard/verify: {ecards} e-cards in turn (session, SM2 verify, live status, attributes)");
    println!("  round   health req/s   verify req/s   ratio");
    let mut ratios = Vec::with_capacity(ROUNDS);
    for (i, (health, verify)) in rounds.iter().enumerate() {
        println!("  {:>5}   {health:>12.0}   {verify:>12.0}   {:>5.2}", i + 1, verify / health);
        ratios.push(verify / health);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("  first scans, one client: {cold:.0} req/s (each e-card read from the database once)");
    println!(
        "  median ratio verify / health: {median:.2} (goal >= {HTTP_GOAL}: {})",
        if median >= HTTP_GOAL { "met" } else { "NOT met" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_speed() {
        let out = "                              sign    verify    sign/s verify/s\n \
             256 bits SM2 (CurveSM2)   0.0002s   0.0002s   4300.5   4712.0\n\
             version: 3.0.19\n \
             256 bits ecdsa (nistp256)   0.0000s   0.0000s  36000.0  12000.0\n";
        assert_eq!(parse_speed(out, "SM2"), Some(SpeedLine { sign: 4300.5, verify: 4712.0 }));
        assert_eq!(parse_speed(out, "nistp256"), Some(SpeedLine { sign: 36000.0, verify: 12000.0 }));
        assert_eq!(parse_speed(out, "ed25519"), None);
    }
}
