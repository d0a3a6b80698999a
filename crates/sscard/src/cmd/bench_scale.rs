//! `sscard bench scale --persons N --backend sqlite|postgres`: how the cost of one operation
//! grows with the deployment. Two fresh databases in one run, a small one (`--small`, 10,000
//! persons) and a large one (`--persons`), each seeded in bulk with persons holding an active
//! card and an e-card (see [`super::bench_benefits_seed`]) and then analysed; the same
//! operations are timed on both, one at a time, on persons picked at random across the whole
//! table (so neither the database's cache nor the OS's flatters the large one):
//!
//! * temporary loss (临时挂失) and its lift of the person's card: `cards::act` with suspend,
//!   then unsuspend — locks, the state change, its outbox event and audit record, the e-card
//!   kept in step, one durable transaction each;
//! * a QR code of another random person's e-card issued (the `POST /ecard/qr` handler, as the holder)
//!   and verified online (the `POST /ecard/verify` handler, as a clerk: SM2 signature, then
//!   the e-card, card and holder read from the database).
//!
//! Online verification reads through: the server's live e-card set would answer a small
//! deployment's every e-card from memory after the warm-up and a large one's mostly from
//! the database, which measures the set's size, not the database's growth.
//! Both databases are warmed up alike, then the timing alternates between them in rounds, so
//! a drift of the shared machine's speed hits both. Per operation: median and p99 latency on
//! each database and the ratio large / small (the goal of issue 13: at most 1.2).

use super::bench::Backend;
use super::bench::BenchDb;
use super::bench_benefits_seed::{bench_card_no, seed};
use super::cli_ctx;
use axum::body::Bytes;
use axum::extract::State;
use sscard_app::cards::{self, ActionInput};
use sscard_domain::access::{Actor, Role};
use sscard_domain::card::CardAction;
use sscard_domain::policy::Policy;
use sscard_server::AppState;
use sscard_server::auth::Auth;
use sscard_server::extract::JsonBody;
use sscard_server::routes::ecard::{self as ecard_routes, TokenRequest};
use sscard_server::terminal_auth::{CachedCaller, Caller};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The goal: an operation at the large size costs at most this much times the small one.
pub const GOAL: f64 = 1.2;
/// Rounds the timing alternates between the two databases.
const ROUNDS: u32 = 3;

pub struct Args {
    pub backend: Backend,
    pub persons: u32,
    pub small: u32,
    pub ops: u32,
    pub warmup: u32,
    pub keep: bool,
    pub prewarm: bool,
}

/// The operations timed, in the order they run on each person.
const OPS: [&str; 4] = ["temporary loss (suspend)", "lift (unsuspend)", "QR issue", "QR verify online"];

/// Each operation's latencies on one database.
#[derive(Default)]
struct Samples([Vec<Duration>; 4]);

pub async fn scale(args: Args) -> anyhow::Result<ExitCode> {
    let persons = args.persons.clamp(10, 50_000_000);
    let small_n = args.small.clamp(10, 50_000_000);
    let per_round = (args.ops / ROUNDS).clamp(1, 100_000);
    let small = Deployment::seeded(args.backend, small_n, "small").await?;
    let large = Deployment::seeded(args.backend, persons, "large").await?;
    if args.prewarm {
        for d in [&small, &large] {
            let bytes = sscard_store_sql::bench::prewarm(&d.db.sql).await?;
            eprintln!("{}: {:.0} MiB read into the OS page cache (pg_prewarm)", d.label, bytes as f64 / 1_048_576.0);
        }
    }
    eprintln!("warming up both databases: {} operations of each kind on each ...", args.warmup);
    let mut rng = Rng::new();
    for d in [&small, &large] {
        d.run(args.warmup, &mut rng, &mut Samples::default()).await?;
    }
    let (mut on_small, mut on_large) = (Samples::default(), Samples::default());
    for round in 1..=ROUNDS {
        eprintln!("round {round}/{ROUNDS}: {per_round} random persons on the small database, then on the large ...");
        small.run(per_round, &mut rng, &mut on_small).await?;
        large.run(per_round, &mut rng, &mut on_large).await?;
    }
    let backend = small.db.store.backend();
    println!(
        "backend {backend}, one client, persons picked at random across each table, {} per operation and database \
         ({ROUNDS} alternating rounds, after {} warm-up operations on each)",
        per_round * ROUNDS,
        args.warmup
    );
    for d in [&small, &large] {
        println!("  {}", d.describe().await);
    }
    let met = report(&on_small, &on_large);
    for d in [small, large] {
        if args.keep {
            println!("  kept the {} database: {}", d.label, d.db.keep().await);
        } else {
            d.db.finish().await?;
        }
    }
    println!("goal: large / small median at most {GOAL} for every operation: {}", if met { "met" } else { "NOT met" });
    Ok(ExitCode::SUCCESS)
}

/// Prints the table; whether every median ratio is within the goal.
fn report(small: &Samples, large: &Samples) -> bool {
    println!(
        "  {:<26} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8}",
        "operation (ms)", "small median", "small p99", "large median", "large p99", "ratio", "p99 ratio"
    );
    let mut met = true;
    for (i, name) in OPS.iter().enumerate() {
        let (s, l) = (Stats::of(&small.0[i]), Stats::of(&large.0[i]));
        let ratio = l.median / s.median;
        met &= ratio <= GOAL;
        println!(
            "  {name:<26} {:>12.3} {:>12.3} {:>12.3} {:>12.3} {ratio:>8.2} {:>8.2}",
            s.median,
            s.p99,
            l.median,
            l.p99,
            l.p99 / s.p99
        );
    }
    met
}

/// Median and p99 of latencies, in milliseconds.
struct Stats {
    median: f64,
    p99: f64,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms.get(((ms.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
        Stats { median: at(0.5), p99: at(0.99) }
    }
}

/// A small pseudo-random generator (xorshift64*), seeded from the OS: which persons are
/// picked needs no cryptographic quality, only to spread over the whole table.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        Rng(u64::from_le_bytes(sscard_gm::rand::random_bytes()) | 1)
    }
    /// A number in `0..n` (the modulo bias is below 1e-9 for the sizes here).
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % u64::from(n.max(1))) as u32
    }
}

/// One seeded database and the server state the QR handlers run in.
struct Deployment {
    db: BenchDb,
    state: AppState,
    persons: u32,
    label: &'static str,
    seed_s: f64,
}

impl Deployment {
    /// A fresh database of `n` seeded persons, analysed, with a QR issuer key.
    async fn seeded(backend: Backend, n: u32, label: &'static str) -> anyhow::Result<Deployment> {
        let db = BenchDb::open(backend).await?;
        let started = Instant::now();
        // Secondary indexes built after the load, not row by row (PostgreSQL).
        let dropped = sscard_store_sql::bench::drop_secondary_indexes(&db.sql).await?;
        let bar = super::progress(u64::from(n), &format!("seeding the {label} database"));
        let step = (n / 20).max(1);
        let mut next_line = step;
        seed(&db, n, &mut |done| {
            bar.set_position(u64::from(done));
            // Not a terminal (a log file): a line every 5 %.
            if bar.is_hidden() && (done >= next_line || done == n) {
                let s = started.elapsed().as_secs_f64();
                eprintln!("{label}: {done}/{n} persons seeded in {s:.0} s ({:.0}/s)", f64::from(done) / s);
                next_line = done + step;
            }
        })
        .await?;
        bar.finish_and_clear();
        sscard_store_sql::bench::build_indexes(&db.sql, &dropped, &mut |name, s| {
            eprintln!("{label}: index {name} built in {s:.1} s");
        })
        .await?;
        eprintln!("{label}: analysing ...");
        sscard_store_sql::bench::analyze(&db.sql).await?;
        let seed_s = started.elapsed().as_secs_f64();
        let clock: Arc<dyn sscard_domain::clock::Clock> = Arc::new(sscard_server::clock::SystemClock);
        let mut state = AppState::new(db.store.clone(), clock, Policy::default());
        state.live = Arc::new(sscard_app::live::LiveEcards::read_through());
        state.keys.ensure(db.store.as_ref(), state.now_ms()).await?;
        Ok(Deployment { db, state, persons: n, label, seed_s })
    }

    async fn describe(&self) -> String {
        let size = sscard_store_sql::bench::database_bytes(&self.db.sql).await.map_or_else(
            |e| format!("size not known: {e}"),
            |b| format!("{:.0} MiB on disk", b as f64 / f64::from(1u32 << 20)),
        );
        format!(
            "{} database: {} persons with an active card and an e-card, seeded and analysed in {:.1} s ({:.0} persons/s), {size}",
            self.label,
            self.persons,
            self.seed_s,
            f64::from(self.persons) / self.seed_s
        )
    }

    /// `ops` rounds of persons picked at random: one's card lost temporarily and lifted, another's
    /// QR code issued and verified.
    async fn run(&self, ops: u32, rng: &mut Rng, into: &mut Samples) -> anyhow::Result<()> {
        let store = self.db.store.as_ref();
        let clerk = Actor { name: "bench-clerk".into(), role: Role::Clerk, person_id: None, bank_code: None };
        for _ in 0..ops {
            let card_no = bench_card_no(rng.below(self.persons));
            let started = Instant::now();
            cards::act(store, &cli_ctx(), &card_no, CardAction::Suspend, ActionInput::default()).await?;
            into.0[0].push(started.elapsed());
            let started = Instant::now();
            cards::act(store, &cli_ctx(), &card_no, CardAction::Unsuspend, ActionInput::default()).await?;
            into.0[1].push(started.elapsed());
            // The QR code is another person's: the lifecycle operations just brought this
            // person's pages into memory, which would flatter the large database.
            let card = self.card_of(bench_card_no(rng.below(self.persons))).await?;
            let holder = Actor {
                name: format!("holder:{}", card.person_id),
                role: Role::Holder,
                person_id: Some(card.person_id),
                bank_code: None,
            };
            let started = Instant::now();
            let qr = ecard_routes::qr(State(self.state.clone()), Auth(holder), Bytes::new()).await.map_err(api)?;
            into.0[2].push(started.elapsed());
            let body = JsonBody { value: TokenRequest { token: qr.0.token }, raw: Bytes::new() };
            let started = Instant::now();
            let verdict =
                ecard_routes::verify(State(self.state.clone()), CachedCaller(Caller::User(clerk.clone())), body)
                    .await
                    .map_err(api)?;
            into.0[3].push(started.elapsed());
            anyhow::ensure!(
                verdict.0.valid,
                "a fresh QR code of card {card_no} did not verify: {:?}",
                verdict.0.reason
            );
        }
        Ok(())
    }
}

impl Deployment {
    /// A bench card, read outside the timing (to know whose QR code to make).
    async fn card_of(&self, card_no: sscard_domain::ids::CardNo) -> anyhow::Result<sscard_domain::card::Card> {
        let mut tx = self.db.store.read().await?;
        let card = tx.get_card(card_no.as_str(), false).await?;
        tx.commit().await?;
        card.ok_or_else(|| anyhow::anyhow!("bench card {} not found", card_no.as_str()))
    }
}

fn api(e: sscard_server::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}
