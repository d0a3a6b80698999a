//! `sscard bench onecard`: the one-card traffic of many terminals through the HTTP API on a
//! fresh database (a temp SQLite file or its own PostgreSQL database), as ratios to raw
//! single-row inserts measured on the same database in the same run:
//!
//! * online transit taps (`POST /transit/taps`), one terminal per client, cards in turn;
//! * medical settlements (`POST /medical/settlements`), one medical terminal per client;
//!
//! in three rounds, each phase right after raw inserts of its own (the median ratio is
//! reported), then
//! * offline batches (`POST /transit/batches`) of N lines (10,000 by default) from two gates.
//!
//! Every answer is checked (a refused tap or settlement fails the run) and `ledger check` must
//! be clean at the end.

use super::bench::{Backend, BenchDb, raw_inserts, setup};
use super::bench_ecard::load;
use super::cli_ctx;
use anyhow::Context;
use serde_json::json;
use sscard_app::onecard::ledger::BooksReport;
use sscard_app::onecard::terminals::{CreatedTerminal, NewTerminal, add_operator, add_terminal};
use sscard_app::onecard::{Presentation, ledger, terminal_actor, transit};
use sscard_domain::ids::RegionCode;
use sscard_domain::money::Fen;
use sscard_domain::policy::Policy;
use sscard_domain::terminal::{Operator, OperatorKind, Scenario, Scope, Terminal};
use sscard_domain::transit::TopupSource;
use sscard_server::AppState;
use sscard_store::Store;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Cards taking part: enough that concurrent requests rarely meet on one wallet.
const CARDS: u32 = 400;
/// Each card's e-wallet before the run (500 yuan): room for about 5,000 taps of 1 yuan.
const WALLET_FEN: i64 = 50_000;
const FARE_FEN: i64 = 100;
const BILL_FEN: i64 = 12_345;
/// Rounds of (raw inserts, taps, raw inserts, settlements).
const ROUNDS: usize = 3;
/// Raw insert transactions per measurement.
const RAW_OPS: u32 = 2_000;

/// One round's rates per second.
struct Round {
    raw_taps: f64,
    taps: f64,
    raw_settle: f64,
    settlements: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub struct Args {
    pub backend: Backend,
    pub seconds: u64,
    pub clients: usize,
    pub batch_lines: usize,
}

pub async fn onecard(args: Args) -> anyhow::Result<ExitCode> {
    let seconds = args.seconds.clamp(1, 60);
    let clients = args.clients.clamp(1, 64);
    let batch_lines = args.batch_lines.clamp(1, sscard_domain::transit::MAX_BATCH);
    let db = BenchDb::open(args.backend).await?;
    let store = db.store.clone();
    eprintln!("setting up {CARDS} holders with active cards, {clients} gates and {clients} medical terminals ...");
    let fleet = prepare(store.as_ref(), clients).await?;
    let (base, server) = serve(store.clone()).await?;
    let online = Online {
        client: reqwest::Client::builder().pool_max_idle_per_host(clients).build()?,
        store: store.clone(),
        cards: fleet.cards.clone(),
        clients,
        seconds,
    };
    let rounds = online_rounds(&online, &base, &fleet).await?;
    let mut batch_rates = Vec::new();
    for gate in fleet.gates.iter().skip(clients).take(2) {
        batch_rates.push(offline_batch(&online.client, &base, gate, &fleet.cards, batch_lines).await?);
    }
    server.abort();

    let books = ledger::check(store.as_ref()).await?;
    let backend = store.backend();
    drop(online);
    drop(store);
    db.finish().await?;
    print_report(&Summary {
        backend,
        clients,
        seconds,
        batch_lines,
        rounds: &rounds,
        batch_rates: &batch_rates,
        books: &books,
    });
    Ok(if books.clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The cards and terminals of the run.
struct Fleet {
    cards: Arc<Vec<String>>,
    /// One gate per client for the online taps and two more for the offline batches; the
    /// first is also the cash desk that fills the wallets.
    gates: Vec<CreatedTerminal>,
    /// One medical terminal per client.
    medical: Vec<CreatedTerminal>,
}

/// Sets up, through the use cases, the holders with active cards, a bus company and a
/// hospital with their terminals, and fills every card's e-wallet.
async fn prepare(store: &dyn Store, clients: usize) -> anyhow::Result<Fleet> {
    let cards = Arc::new(setup(store, CARDS).await?);
    let mut admin = cli_ctx();
    admin.hash_iterations = 1000;
    let region = RegionCode::parse("350203")?;
    for (code, kind) in [("BENCH-BUS", OperatorKind::Transit), ("BENCH-HOSP", OperatorKind::Hospital)] {
        add_operator(store, &admin, Operator { code: code.into(), name: code.into(), kind, region }).await?;
    }
    let mut gates = Vec::new();
    let mut medical = Vec::new();
    for i in 0..clients + 2 {
        let new = |operator: &str, scenario: Scenario| NewTerminal {
            operator: operator.into(),
            scenario,
            region,
            scope: Scope::default(),
        };
        gates.push(add_terminal(store, &admin, new("BENCH-BUS", Scenario::Transit)).await?);
        if i < clients {
            medical.push(add_terminal(store, &admin, new("BENCH-HOSP", Scenario::Medical)).await?);
        }
    }
    fill_wallets(store, admin.now_ms, &gates[0].terminal, &cards).await?;
    Ok(Fleet { cards, gates, medical })
}

/// Tops up every card's e-wallet with [`WALLET_FEN`] in cash at `cash_desk`.
async fn fill_wallets(store: &dyn Store, now_ms: i64, cash_desk: &Terminal, cards: &[String]) -> anyhow::Result<()> {
    let desk_ctx = sscard_app::Ctx::new(terminal_actor(cash_desk), now_ms, Policy::default());
    for card in cards {
        let p = Presentation::CardNo(card.clone());
        let key = Some(format!("bench-topup-{card}"));
        let cmd = transit::Topup { amount: Fen::new(WALLET_FEN), source: TopupSource::Cash, key };
        transit::topup(store, &desk_ctx, Some(cash_desk), &p, &cmd).await?;
    }
    Ok(())
}

/// Serves the HTTP API on a free local port: its base URL and the server task.
async fn serve(store: Arc<dyn Store>) -> anyhow::Result<(String, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let clock: Arc<dyn sscard_domain::clock::Clock> = Arc::new(sscard_server::clock::SystemClock);
    let state = AppState::new(store, clock, Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v1", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, sscard_server::build_router(state)).await });
    Ok((base, server))
}

/// What every online phase shares.
struct Online {
    client: reqwest::Client,
    store: Arc<dyn Store>,
    cards: Arc<Vec<String>>,
    clients: usize,
    seconds: u64,
}

/// The requests of one online phase: a URL, the secrets of the terminals taking turns, and a
/// counter shared by every round (so every settlement has a bill id of its own).
struct Phase {
    url: String,
    secrets: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
}

impl Phase {
    fn new(url: String, terminals: &[CreatedTerminal]) -> Self {
        Phase { url, secrets: Arc::new(terminals.iter().map(|t| t.secret.clone()).collect()), next: Arc::default() }
    }
}

/// Rounds of raw inserts next to each phase, so that each ratio compares rates measured
/// moments apart on the database as it is then (it grows, checkpoints and vacuums).
async fn online_rounds(o: &Online, base: &str, fleet: &Fleet) -> anyhow::Result<Vec<Round>> {
    let (clients, seconds) = (o.clients, o.seconds);
    let taps = Phase::new(format!("{base}/transit/taps"), &fleet.gates[..clients]);
    let bills = Phase::new(format!("{base}/medical/settlements"), &fleet.medical);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        eprintln!("round {round} of {ROUNDS}: raw inserts, POST /transit/taps ({clients} gates, {seconds} s) ...");
        let raw_taps = raw_inserts(&o.store, RAW_OPS, clients as u32).await?;
        let taps = tap_load(o, &taps).await?;
        eprintln!(
            "round {round} of {ROUNDS}: raw inserts, POST /medical/settlements ({clients} terminals, {seconds} s) ..."
        );
        let raw_settle = raw_inserts(&o.store, RAW_OPS, clients as u32).await?;
        let settlements = settlement_load(o, &bills).await?;
        rounds.push(Round { raw_taps, taps, raw_settle, settlements });
    }
    Ok(rounds)
}

/// Online transit taps of [`FARE_FEN`], cards in turn: taps per second.
async fn tap_load(o: &Online, phase: &Phase) -> anyhow::Result<f64> {
    let (url, next, cards, secrets) = (phase.url.clone(), phase.next.clone(), o.cards.clone(), phase.secrets.clone());
    let make = Arc::new(move |c: &reqwest::Client| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "card_no": cards[n % cards.len()], "fare_fen": FARE_FEN });
        c.post(&url).bearer_auth(&secrets[n % secrets.len()]).json(&body)
    });
    load(&o.client, o.clients, Duration::from_secs(o.seconds), make, b"\"balance_fen\"").await
}

/// Medical settlements of [`BILL_FEN`], cards in turn: settlements per second.
async fn settlement_load(o: &Online, phase: &Phase) -> anyhow::Result<f64> {
    let (url, next, cards, secrets) = (phase.url.clone(), phase.next.clone(), o.cards.clone(), phase.secrets.clone());
    let make = Arc::new(move |c: &reqwest::Client| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let body =
            json!({ "card_no": cards[n % cards.len()], "amount_fen": BILL_FEN, "bill_id": format!("bench-{n}") });
        c.post(&url).bearer_auth(&secrets[n % secrets.len()]).json(&body)
    });
    load(&o.client, o.clients, Duration::from_secs(o.seconds), make, b"\"pool_fen\"").await
}

/// One offline batch of `batch_lines` taps from `gate`, every line checked applied: lines per second.
async fn offline_batch(
    client: &reqwest::Client,
    base: &str,
    gate: &CreatedTerminal,
    cards: &[String],
    batch_lines: usize,
) -> anyhow::Result<f64> {
    eprintln!("POST /transit/batches, {batch_lines} lines from gate {} ...", gate.terminal.id);
    let now_ms = sscard_domain::clock::Clock::now_ms(&sscard_server::clock::SystemClock);
    let lines: Vec<serde_json::Value> = (0..batch_lines)
        .map(|i| {
            // Within the last second: after the cards were activated at setup.
            let at = now_ms - 1_000 + (i * 1_000 / batch_lines) as i64;
            json!({ "seq": i + 1, "card_no": cards[i % cards.len()], "fare_fen": FARE_FEN, "at": at })
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "transactions": lines }))?;
    let started = Instant::now();
    let resp = client
        .post(format!("{base}/transit/batches"))
        .bearer_auth(&gate.secret)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.context("batch answer")?;
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.is_success(), "batch answered {status}: {answer}");
    let results = answer["results"].as_array().context("no results")?;
    let applied = results.iter().filter(|r| r["status"] == "applied").count();
    anyhow::ensure!(applied == batch_lines, "{applied} of {batch_lines} lines applied: {:?}", results.first());
    Ok(batch_lines as f64 / elapsed)
}

/// What the report prints.
struct Summary<'a> {
    backend: &'static str,
    clients: usize,
    seconds: u64,
    batch_lines: usize,
    rounds: &'a [Round],
    batch_rates: &'a [f64],
    books: &'a BooksReport,
}

fn print_report(s: &Summary<'_>) {
    let Summary { backend, clients, seconds, batch_lines, rounds, batch_rates, books } = *s;
    let raw = median(rounds.iter().map(|r| (r.raw_taps + r.raw_settle) / 2.0).collect());
    let batch = batch_rates.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "backend {backend}, {clients} concurrent terminals, {ROUNDS} rounds of {seconds} s per online phase, durable commits"
    );
    let per_round =
        |f: &dyn Fn(&Round) -> f64| rounds.iter().map(|r| format!("{:.2}", f(r))).collect::<Vec<_>>().join(" / ");
    let tap_ratio = median(rounds.iter().map(|r| r.taps / r.raw_taps).collect());
    let settle_ratio = median(rounds.iter().map(|r| r.settlements / r.raw_settle).collect());
    println!(
        "  raw single-row inserts      : {raw:>9.0} /s   (median; same database, {clients} clients, next to each phase)"
    );
    println!(
        "  online transit taps         : {:>9.0} /s   ratio {tap_ratio:.2} median of {} (aim >= 0.3)",
        median(rounds.iter().map(|r| r.taps).collect()),
        per_round(&|r| r.taps / r.raw_taps)
    );
    println!(
        "  medical settlements         : {:>9.0} /s   ratio {settle_ratio:.2} median of {} (aim >= 0.3)",
        median(rounds.iter().map(|r| r.settlements).collect()),
        per_round(&|r| r.settlements / r.raw_settle)
    );
    println!(
        "  offline batch lines         : {batch:>9.0} /s   ratio {:.2} (aim >= 1.0; {batch_lines}-line batches, slower of two)",
        batch / raw
    );
    println!(
        "  ledger check                : {} ({} transfers, {} fen)",
        if books.clean() { "clean" } else { "NOT CLEAN" },
        books.transfers,
        books.transfers_total_fen
    );
}
