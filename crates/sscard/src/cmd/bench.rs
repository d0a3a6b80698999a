//! `sscard bench store` (crypto and http: [`super::bench_ecard`]): durable lifecycle operations per second through the store,
//! as a ratio to raw single-row inserts on the same database with the same
//! durability settings, measured side by side in one run on a fresh database.

use super::cli_ctx;
use clap::{Subcommand, ValueEnum};
use sscard_app::cards::ActionInput;
use sscard_app::{Ctx, admin, applications, cards, persons};
use sscard_domain::application::{AppKind, ApplicationInput, Channel};
use sscard_domain::card::{CardAction, Pin};
use sscard_domain::document::{DocType, make_resident_id};
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_store::{Bank, Branch, Store};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Lifecycle writes (suspend/unsuspend through the full use case) vs raw inserts.
    Store {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Operations per measurement.
        #[arg(long, default_value_t = 2000)]
        ops: u32,
        /// Concurrent clients (each runs ops/clients operations).
        #[arg(long, default_value_t = 1)]
        clients: u32,
    },
    /// QR token sign/verify per second vs `openssl speed sm2 ecdsap256`, in one run.
    Crypto {
        /// Seconds per measurement (like openssl speed -seconds).
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// POST /ecard/verify vs GET /health requests per second on a local server (temp SQLite).
    Http {
        /// Seconds per phase; three rounds of two phases (at most 12).
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Concurrent keep-alive clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Holders whose QR codes are verified in turn (at most 5,000).
        #[arg(long, default_value_t = 500)]
        ecards: u32,
    },
    /// Transit taps, medical settlements and offline batches through HTTP vs raw inserts.
    Onecard {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Seconds per online phase (taps, settlements).
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Concurrent terminals (each its own client).
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Lines per offline batch (at most 10,000).
        #[arg(long, default_value_t = 10_000)]
        batch_lines: usize,
    },
    /// Offline QR verification with the nation's revocation set (`--entries` revoked e-cards)
    /// vs with an empty set, in one run; prints the set's bytes and the process's RSS.
    Revocations {
        /// Revoked e-cards in the set (at most 50,000,000).
        #[arg(long, default_value_t = 10_000_000)]
        entries: u64,
        /// Seconds per phase; three rounds of two phases.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Distinct QR tokens verified in turn (at most 10,000).
        #[arg(long, default_value_t = 1000)]
        tokens: usize,
    },
    /// One benefit batch end to end (CSV, payment, banks' pain.001) vs raw multi-row inserts.
    Benefits {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Lines in the batch (one seeded person with a card per line).
        #[arg(long, default_value_t = 10_000)]
        lines: u32,
    },
    /// Cost growth in one deployment: a card's temporary loss and lift, a QR code issued and
    /// verified online, timed on a fresh database of `--small` seeded persons and on one of
    /// `--persons`, in one run: median, p99 and the ratio large / small per operation.
    Scale {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
        /// Persons (each with an active card and an e-card) in the large database.
        #[arg(long, default_value_t = 100_000)]
        persons: u32,
        /// Persons in the small database.
        #[arg(long, default_value_t = 10_000)]
        small: u32,
        /// Persons picked at random per database, each going through every operation.
        #[arg(long, default_value_t = 900)]
        ops: u32,
        /// Untimed operations of each kind on each database first.
        #[arg(long, default_value_t = 100)]
        warmup: u32,
        /// Leave both databases in place afterwards (their URLs are printed) to look into them.
        #[arg(long)]
        keep: bool,
        /// Before timing, read both databases once into the OS page cache (PostgreSQL's
        /// pg_prewarm), as on a server that has been serving for a while; without it a large
        /// database starts as cold as the seed left it.
        #[arg(long)]
        prewarm: bool,
    },
    /// Outbox events relayed to JetStream (OutboxSource + run_relay) vs raw JetStream publishes
    /// of the same bodies, same process, same in-flight depth, in one run.
    Relay {
        /// Outbox events seeded in a temporary SQLite database (at most 1,000,000).
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// The NATS server (with JetStream) to publish to.
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// Messages per relay batch (and raw chunk); default the relay's.
        #[arg(long, default_value_t = sscard_nats::relay::RelayConfig::default().batch)]
        batch: u32,
        /// Batches out at once, relay and raw alike; default the relay's.
        #[arg(long, default_value_t = sscard_nats::relay::RelayConfig::default().depth)]
        depth: usize,
    },
}

pub async fn bench(_url: &str, cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    let (backend, ops, clients) = match cmd {
        BenchCmd::Store { backend, ops, clients } => (backend, ops, clients),
        BenchCmd::Crypto { seconds } => return super::bench_ecard::crypto(seconds),
        BenchCmd::Http { seconds, clients, ecards } => return super::bench_ecard::http(seconds, clients, ecards).await,
        BenchCmd::Revocations { entries, seconds, tokens } => {
            return super::bench_revocations::revocations(super::bench_revocations::Args { entries, seconds, tokens });
        }
        BenchCmd::Relay { events, nats_url, batch, depth } => {
            return super::bench_relay::relay_bench(super::bench_relay::Args { events, nats_url, batch, depth }).await;
        }
        BenchCmd::Scale { backend, persons, small, ops, warmup, keep, prewarm } => {
            let args = super::bench_scale::Args { backend, persons, small, ops, warmup, keep, prewarm };
            return super::bench_scale::scale(args).await;
        }
        BenchCmd::Benefits { backend, lines } => return super::bench_benefits::benefits_bench(backend, lines).await,
        BenchCmd::Onecard { backend, seconds, clients, batch_lines } => {
            let args = super::bench_onecard::Args { backend, seconds, clients, batch_lines };
            return super::bench_onecard::onecard(args).await;
        }
    };
    let ops = ops.clamp(10, 1_000_000);
    let clients = clients.clamp(1, 64);
    let db = BenchDb::open(backend).await?;
    let store = db.store.clone();
    let cards = setup(store.as_ref(), clients * 4).await?;
    let raw = raw_inserts(&store, ops, clients).await?;
    let life = lifecycle(&store, &cards, ops, clients).await?;
    register_more(store.as_ref(), LOOKUP_PERSONS).await?;
    let lookups = sscard_store_sql::bench::ssn_lookups(&db.sql, u64::from(ops)).await?;
    let backend_name = store.backend();
    db.finish().await?;
    println!("backend {backend_name}, {ops} operations, {clients} client(s), durable commits");
    println!("  raw single-row inserts : {raw:>9.0} /s");
    println!(
        "  lifecycle operations   : {life:>9.0} /s  (suspend/unsuspend: locks, state change, outbox event, audit record)"
    );
    println!("  ratio                  : {:>9.2}", life / raw);
    println!("person lookups by SSN, {} each way, one read transaction each:", lookups.lookups);
    println!(
        "  clear ssn index        : {:>9.0} /s  (the lookup before sealing, on a scratch copy in clear)",
        lookups.clear_per_s
    );
    println!("  blind index            : {:>9.0} /s  (HMAC-SM3, ssn_index, four SM4-GCM opens)", lookups.blind_per_s);
    println!("  ratio                  : {:>9.2}", lookups.blind_per_s / lookups.clear_per_s);
    Ok(ExitCode::SUCCESS)
}

/// Persons added for the lookup benchmark (beside the few of the lifecycle part).
const LOOKUP_PERSONS: u32 = 300;

/// Registers `n` more persons (no cards) for the lookups.
async fn register_more(store: &dyn Store, n: u32) -> anyhow::Result<()> {
    let ctx = cli_ctx();
    let region = RegionCode::parse("350203")?;
    for i in 0..n {
        let birth = time::Date::from_calendar_date(1960, time::Month::January, 1)? + time::Duration::days(i64::from(i));
        let input = RegistrationInput {
            doc_type: DocType::ResidentId,
            doc_number: make_resident_id(region, birth, (i % 1000) as u16),
            name: bench_name(i + 10_000),
            sex: None,
            birth_date: None,
            region,
            guardian_id: None,
            relationship_proof: None,
        };
        persons::register(store, &ctx, input).await?;
    }
    Ok(())
}

/// A fresh database for one benchmark run: a temp SQLite file, or a PostgreSQL database of
/// its own (at SSCARD_TEST_PG_URL) that [`BenchDb::finish`] drops.
pub(super) struct BenchDb {
    pub store: Arc<dyn Store>,
    /// The same store, for the SQL-level lookup benchmark.
    pub sql: sscard_store_sql::SqlStore,
    sqlite: Option<sscard_store_sql::sqlite::TempDatabase>,
    pg: Option<sscard_store_sql::postgres::TempDatabase>,
    /// The ephemeral data keys, kept so that [`BenchDb::reopen`] can open the data again.
    keys: sscard_store_sql::DataKeys,
}

impl BenchDb {
    pub async fn open(backend: Backend) -> anyhow::Result<BenchDb> {
        Ok(match backend {
            Backend::Sqlite => {
                let db = sscard_store_sql::sqlite::TempDatabase::new();
                let keys = sscard_store_sql::DataKeys::ephemeral();
                let sql = sscard_store_sql::sqlite::open(&db.url(), keys.clone()).await?;
                BenchDb { store: Arc::new(sql.clone()), sql, sqlite: Some(db), pg: None, keys }
            }
            Backend::Postgres => {
                let db = sscard_store_sql::postgres::TempDatabase::create().await?;
                let keys = sscard_store_sql::DataKeys::ephemeral();
                let sql = sscard_store_sql::postgres::open(&db.url(), keys.clone()).await?;
                BenchDb { store: Arc::new(sql.clone()), sql, sqlite: None, pg: Some(db), keys }
            }
        })
    }

    /// The database's URL.
    fn url(&self) -> Option<String> {
        self.pg.as_ref().map(|d| d.url()).or_else(|| self.sqlite.as_ref().map(|d| d.url()))
    }

    /// Closes the store and opens the same database again, as a new process would (the CLI's
    /// `benefits submit` is one): what the seeding left in the pool's connections and caches
    /// is not counted against what comes after.
    pub async fn reopen(&mut self) -> anyhow::Result<()> {
        self.store.close().await;
        let url = self.url().ok_or_else(|| anyhow::anyhow!("the bench database is gone"))?;
        self.sql = sscard_store_sql::open_sql(&url, self.keys.clone()).await?;
        self.store = Arc::new(self.sql.clone());
        Ok(())
    }

    /// Closes the store and leaves the database in place (to look into it afterwards):
    /// its URL. Its data keys were ephemeral, so its personal data stays sealed for good.
    pub async fn keep(self) -> String {
        self.store.close().await;
        let url = self.url();
        std::mem::forget(self.pg);
        std::mem::forget(self.sqlite);
        url.unwrap_or_default()
    }

    /// Closes the store and removes the database.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.store.close().await;
        if let Some(db) = self.pg {
            db.drop_now().await?;
        }
        drop(self.sqlite);
        Ok(())
    }
}

/// A bank, a printer branch and `n` persons with an active card each.
pub(super) async fn setup(store: &dyn Store, n: u32) -> anyhow::Result<Vec<String>> {
    let mut ctx: Ctx = cli_ctx();
    ctx.hash_iterations = 1000;
    let bank = BankCode::parse("BENCH")?;
    admin::add_bank(store, &ctx, Bank { code: bank.clone(), name: "Bench Bank".into(), bin: Bin::parse("623599")? })
        .await?;
    let branch = BranchCode::parse("BENCH-1")?;
    let region = RegionCode::parse("350203")?;
    admin::add_branch(
        store,
        &ctx,
        Branch { bank_code: bank.clone(), code: branch.clone(), name: "Bench".into(), region, has_printer: true },
    )
    .await?;
    let mut out = Vec::new();
    for i in 0..n {
        let birth = time::Date::from_calendar_date(1980, time::Month::March, 1)? + time::Duration::days(i as i64);
        let input = RegistrationInput {
            doc_type: DocType::ResidentId,
            doc_number: make_resident_id(region, birth, (i % 1000) as u16),
            name: bench_name(i),
            sex: None,
            birth_date: None,
            region,
            guardian_id: None,
            relationship_proof: None,
        };
        let person = persons::register(store, &ctx, input).await?;
        let app = ApplicationInput {
            kind: AppKind::First,
            channel: Channel::BranchInstant,
            bank_code: bank.clone(),
            branch_code: Some(branch.clone()),
            mail_address: None,
            reason: None,
        };
        let view = applications::apply(store, &ctx, &person.id, app).await?;
        let card_no = view.application.card_no.ok_or_else(|| anyhow::anyhow!("instant application made no card"))?;
        let no = sscard_app::fields::card_no(&card_no, "card_no")?;
        let activate = ActionInput { pin: Some(Pin::parse("739164")?), ..Default::default() };
        cards::act(store, &ctx, &no, CardAction::Activate, activate).await?;
        out.push(card_no);
    }
    Ok(out)
}

/// Raw single-row insert transactions per second from `clients` clients (`ops` in all) into a
/// plain table; callable again in the same run (each call writes rows of its own).
pub(super) async fn raw_inserts(store: &Arc<dyn Store>, ops: u32, clients: u32) -> anyhow::Result<f64> {
    let mut tx = store.write().await?;
    tx.execute_unchecked(
        "CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, at_ms BIGINT NOT NULL, payload TEXT NOT NULL)",
    )
    .await?;
    tx.commit().await?;
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos().to_string();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (store, run) = (store.clone(), run.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..ops / clients {
                let mut tx = store.write().await?;
                tx.execute_unchecked(&format!(
                    "INSERT INTO bench_raw (id, at_ms, payload) VALUES ('{run}-{c}-{i}', {i}, 'card.suspended')"
                ))
                .await?;
                tx.commit().await?;
            }
            Ok::<_, sscard_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((ops / clients * clients) as f64 / started.elapsed().as_secs_f64())
}

async fn lifecycle(store: &Arc<dyn Store>, cards: &[String], ops: u32, clients: u32) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    let per_client = cards.len() / clients as usize;
    for c in 0..clients as usize {
        let store = store.clone();
        let mine = cards[c * per_client..(c + 1) * per_client]
            .iter()
            .map(|no| sscard_app::fields::card_no(no, "card_no"))
            .collect::<Result<Vec<_>, _>>()?;
        tasks.push(tokio::spawn(async move {
            let ctx = cli_ctx();
            for i in 0..(ops / clients) as usize {
                let card = &mine[(i / 2) % mine.len()];
                let action = if i % 2 == 0 { CardAction::Suspend } else { CardAction::Unsuspend };
                cards::act(store.as_ref(), &ctx, card, action, ActionInput::default()).await?;
            }
            Ok::<_, sscard_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((ops / clients * clients) as f64 / started.elapsed().as_secs_f64())
}

/// A letters-only name for the `i`-th bench person (names hold no digits): 测试 and `i` in
/// Chinese numerals.
pub(super) fn bench_name(i: impl std::fmt::Display) -> String {
    const NUMERALS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let digits: String = i.to_string().chars().filter_map(|d| d.to_digit(10)).map(|d| NUMERALS[d as usize]).collect();
    format!("测试{digits}")
}
