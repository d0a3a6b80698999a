//! One card for everything on the command line: `sscard operator add`, `sscard terminal
//! add|disable|enable|list|simulate` and `sscard ledger check`.
//!
//! `terminal simulate` drives a realistic stream of taps against a running server, online
//! (one request per tap) or offline (the gate collects taps with increasing sequence numbers
//! and uploads them in batches). The stream is deterministic for a seed, so running it again
//! after a crash re-sends the same (terminal, seq) lines: the server answers `duplicate` for
//! every one it already applied.

use super::{bad_field, cli_ctx, open};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use sscard_app::onecard::{floats, ledger, terminals};
use sscard_domain::ids::RegionCode;
use sscard_domain::terminal::Operator;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Subcommand)]
pub enum OperatorCmd {
    /// Register an operator of terminals.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// hospital | pharmacy | transit | library | park | agency
        #[arg(long)]
        kind: String,
        /// 6-digit region code.
        #[arg(long)]
        region: String,
    },
}

/// The one-card commands under `sscard terminal`.
#[derive(Subcommand)]
pub enum TerminalAdminCmd {
    /// Register a terminal; prints its id and its secret (shown this once, stored hashed).
    Add {
        #[arg(long)]
        operator: String,
        /// identity | medical | transit | library | park
        #[arg(long)]
        scenario: String,
        #[arg(long)]
        region: String,
        /// Attributes it may see, comma-separated: name, ssn_masked, region, retired, minor, temporary.
        #[arg(long, default_value = "")]
        scope: String,
    },
    /// Disable a terminal: its secret stops working at once.
    Disable { id: String },
    /// Enable a disabled terminal.
    Enable { id: String },
    /// Give a terminal a new secret (printed this once); the old one stops working at once.
    RotateSecret { id: String },
    /// List the terminals (never their secrets).
    List,
    /// Drive a stream of taps against a running server.
    Simulate(SimulateArgs),
}

#[derive(Args)]
pub struct SimulateArgs {
    /// The sscard server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub server: String,
    /// The gate's secret (`sst_...`).
    #[arg(long, env = "SSCARD_TERMINAL_SECRET")]
    pub secret: String,
    /// Only transit is simulated.
    #[arg(long, default_value = "transit")]
    pub scenario: String,
    /// Collect taps and upload them in batches (with sequence numbers) instead of one request per tap.
    #[arg(long)]
    pub offline: bool,
    /// Card numbers to draw from, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub cards: Vec<String>,
    /// Number of taps.
    #[arg(long, default_value_t = 1000)]
    pub count: u32,
    /// Lines per offline batch (at most 10,000).
    #[arg(long, default_value_t = 200)]
    pub batch_size: u32,
    /// First sequence number of the stream.
    #[arg(long, default_value_t = 1)]
    pub start_seq: i64,
    /// Full fare in fen; every third line also carries a resident fare of half of it.
    #[arg(long, default_value_t = 200)]
    pub fare: i64,
    /// Seed of the stream: the same seed gives the same taps.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time of the first tap, unix milliseconds (default: so that the last tap is now).
    #[arg(long)]
    pub start_at: Option<i64>,
    /// Milliseconds between two taps of the stream.
    #[arg(long, default_value_t = 100)]
    pub spacing_ms: i64,
    /// Also send as many requests to the no-op health endpoint, in the same run, and print the ratio.
    #[arg(long)]
    pub baseline: bool,
}

#[derive(Subcommand)]
pub enum LedgerCmd {
    /// Check the books: balances sum to zero and equal their transfers, and no account that
    /// stands for real money (e-wallet, medical account, cash float) is negative; exit 1 otherwise.
    Check,
    /// Record money a cash point paid into its float (its `cash` account), so it can take cash:
    /// `--owner OFFICE`, `CASH-<bank code>` or a terminal operator's code. The same `--key`
    /// again moves nothing.
    Float {
        #[arg(long)]
        owner: String,
        #[arg(long)]
        amount_fen: i64,
        /// Repeat-safe key (default: a new one each run).
        #[arg(long)]
        key: Option<String>,
    },
}

pub async fn operator(url: &str, cmd: OperatorCmd) -> anyhow::Result<ExitCode> {
    let OperatorCmd::Add { code, name, kind, region } = cmd;
    let store = open(url).await?;
    let op = Operator {
        kind: terminals::operator_kind(&kind).map_err(bad_field)?,
        region: RegionCode::parse(&region).with_context(|| format!("bad region {region:?}"))?,
        code,
        name,
    };
    let op = terminals::add_operator(store.as_ref(), &cli_ctx(), op).await?;
    store.close().await;
    println!("operator {} ({}) added", op.code, op.kind.as_str());
    Ok(ExitCode::SUCCESS)
}

pub async fn terminal(url: &str, cmd: TerminalAdminCmd) -> anyhow::Result<ExitCode> {
    if let TerminalAdminCmd::Simulate(args) = cmd {
        return simulate(args).await;
    }
    let store = open(url).await?;
    let ctx = cli_ctx();
    match cmd {
        TerminalAdminCmd::Add { operator, scenario, region, scope } => {
            let scope: Vec<&str> = scope.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            let req = terminals::NewTerminal::parse(&operator, &scenario, &region, &scope).map_err(bad_field)?;
            let c = terminals::add_terminal(store.as_ref(), &ctx, req).await?;
            println!("terminal {}", c.terminal.id);
            println!("secret {}", c.secret);
            eprintln!("keep the secret now: it is stored only as a hash and cannot be shown again");
        }
        TerminalAdminCmd::Disable { id } => {
            terminals::set_disabled(store.as_ref(), &ctx, &id, true).await?;
            println!("terminal {id} disabled");
        }
        TerminalAdminCmd::Enable { id } => {
            terminals::set_disabled(store.as_ref(), &ctx, &id, false).await?;
            println!("terminal {id} enabled");
        }
        TerminalAdminCmd::RotateSecret { id } => {
            let c = terminals::rotate_secret(store.as_ref(), &ctx, &id).await?;
            println!("terminal {}", c.terminal.id);
            println!("secret {}", c.secret);
            eprintln!("keep the secret now: it is stored only as a hash and cannot be shown again");
        }
        TerminalAdminCmd::List => {
            for t in terminals::list(store.as_ref(), &ctx, 1000).await? {
                let state = if t.disabled { "disabled" } else { "enabled" };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.operator_code,
                    t.scenario,
                    t.region,
                    t.scope.to_stored(),
                    state
                );
            }
        }
        TerminalAdminCmd::Simulate(_) => {}
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn ledger(url: &str, cmd: LedgerCmd) -> anyhow::Result<ExitCode> {
    if let LedgerCmd::Float { owner, amount_fen, key } = cmd {
        let key = key.unwrap_or_else(|| format!("cli-{}", sscard_app::new_id()));
        let cmd = floats::FundFloat::parse(&owner, amount_fen, &key).map_err(bad_field)?;
        let store = open(url).await?;
        let v = floats::fund_float(store.as_ref(), &cli_ctx(), &cmd).await;
        store.close().await;
        let v = v?;
        let again = if v.replayed { " (already recorded: nothing moved)" } else { "" };
        println!(
            "{} fen from {} into {}; the float holds {} fen{again}",
            v.amount_fen, v.source, v.account, v.float_fen
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = open(url).await?;
    let report = ledger::check(store.as_ref()).await?;
    store.close().await;
    println!(
        "{} accounts, {} transfers moving {} fen; balances sum to {} fen",
        report.accounts, report.transfers, report.transfers_total_fen, report.balance_sum_fen
    );
    if report.clean() {
        println!("ledger clean");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &report.findings {
            println!("PROBLEM {f:?}");
        }
        println!("ledger NOT clean: {} problem(s)", report.findings.len());
        Ok(ExitCode::from(1))
    }
}

/// xorshift64*: a small deterministic generator for the simulated stream.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// One simulated tap.
fn line(rng: &mut Stream, args: &SimulateArgs, seq: i64, at: i64) -> Value {
    let card = &args.cards[(rng.next() % args.cards.len() as u64) as usize];
    let mut v = json!({ "seq": seq, "card_no": card, "fare_fen": args.fare, "at": at });
    if seq % 3 == 0 {
        v["resident_fare_fen"] = json!(args.fare / 2);
    }
    v
}

async fn post(client: &reqwest::Client, url: &str, secret: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let resp = client.post(url).bearer_auth(secret).json(body).send().await.with_context(|| format!("POST {url}"))?;
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, value))
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.scenario != "transit" {
        anyhow::bail!("only --scenario transit is simulated");
    }
    if args.cards.is_empty() || args.count == 0 || !(1..=10_000).contains(&args.batch_size) {
        anyhow::bail!("give --cards, a positive --count and a --batch-size of 1..=10000");
    }
    let client = reqwest::Client::new();
    let base = args.server.trim_end_matches('/');
    let mut rng = Stream(args.seed.max(1));
    let mut counts = Counts::new();
    let started = Instant::now();
    let requests = if args.offline {
        send_batches(&client, base, &args, &mut rng, &mut counts).await?
    } else {
        send_taps(&client, base, &args, &mut rng, &mut counts).await?
    };
    let secs = started.elapsed().as_secs_f64();
    for (k, v) in &counts {
        println!("{v:>8}  {k}");
    }
    let rate = f64::from(args.count) / secs.max(1e-9);
    println!("{} taps in {requests} requests, {secs:.2} s: {rate:.0} taps/s", args.count);
    if args.baseline {
        baseline(&client, base, requests, secs).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How many taps ended how ("applied", "refused REASON", ...).
type Counts = std::collections::BTreeMap<String, u64>;

/// The taps as offline batches of `--batch-size` lines: the requests made.
async fn send_batches(
    client: &reqwest::Client,
    base: &str,
    args: &SimulateArgs,
    rng: &mut Stream,
    counts: &mut Counts,
) -> anyhow::Result<u64> {
    // The stream's clock: taps `spacing_ms` apart, by default ending now.
    let now = sscard_domain::clock::Clock::now_ms(&sscard_server::clock::SystemClock);
    let spacing = args.spacing_ms.clamp(0, 60_000);
    let first_at = args.start_at.unwrap_or(now - i64::from(args.count) * spacing);
    let url = format!("{base}/api/v1/transit/batches");
    let mut requests = 0u64;
    let mut seq = args.start_seq;
    let mut left = args.count;
    while left > 0 {
        let n = left.min(args.batch_size);
        let lines: Vec<Value> = (0..n)
            .map(|i| {
                let at = first_at + (seq - args.start_seq + i64::from(i)) * spacing;
                line(rng, args, seq + i64::from(i), at)
            })
            .collect();
        let (status, body) = post(client, &url, &args.secret, &json!({ "transactions": lines })).await?;
        requests += 1;
        if status != 200 {
            anyhow::bail!("batch from seq {seq} answered {status}: {body}");
        }
        for r in body["results"].as_array().into_iter().flatten() {
            let key = match r["reason"].as_str() {
                Some(reason) => format!("{} {reason}", r["status"].as_str().unwrap_or("?")),
                None => r["status"].as_str().unwrap_or("?").to_string(),
            };
            *counts.entry(key).or_default() += 1;
        }
        seq += i64::from(n);
        left -= n;
    }
    Ok(requests)
}

/// The taps one online request each: the requests made.
async fn send_taps(
    client: &reqwest::Client,
    base: &str,
    args: &SimulateArgs,
    rng: &mut Stream,
    counts: &mut Counts,
) -> anyhow::Result<u64> {
    let url = format!("{base}/api/v1/transit/taps");
    let mut requests = 0u64;
    for i in 0..args.count {
        let mut l = line(rng, args, args.start_seq + i64::from(i), 0);
        let obj = l.as_object_mut().context("line")?;
        obj.remove("seq");
        obj.remove("at");
        let (status, body) = post(client, &url, &args.secret, &l).await?;
        requests += 1;
        let key = match status {
            200 => "applied".to_string(),
            s => format!(
                "refused {} ({s})",
                body["type"].as_str().unwrap_or("?").trim_start_matches("urn:sscard:problem:")
            ),
        };
        *counts.entry(key).or_default() += 1;
    }
    Ok(requests)
}

/// As many no-op requests as the run made, to say what one tap request costs next to one.
async fn baseline(client: &reqwest::Client, base: &str, requests: u64, secs: f64) -> anyhow::Result<()> {
    let url = format!("{base}/api/v1/health");
    let started = Instant::now();
    for _ in 0..requests {
        client.get(&url).send().await.with_context(|| format!("GET {url}"))?.bytes().await?;
    }
    let base_secs = started.elapsed().as_secs_f64();
    let per_request = secs / requests as f64;
    let base_per_request = base_secs / requests as f64;
    println!(
        "baseline: {requests} no-op requests in {base_secs:.2} s; one tap request costs {:.1}x a no-op request",
        per_request / base_per_request.max(1e-12)
    );
    Ok(())
}
