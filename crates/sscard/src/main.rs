//! `sscard`: one binary for the whole card business. Every command takes
//! `--database-url` (or SSCARD_DATABASE_URL; default sqlite://sscard.db).
#![forbid(unsafe_code)]

mod cmd;
mod demo;
mod nation;

/// mimalloc instead of the C library's allocator: a benefit batch allocates many small rows
/// and a few large statements a chunk, and glibc's malloc spent about a quarter of the batch's
/// CPU consolidating its free lists for the large ones (BENCHMARKS.md, benefits). Version 2
/// of mimalloc (the `v2` feature), not 3: version 3 kept the 110 MB a terminal frees after
/// building its revocation set resident for as long as the process ran (221 MiB against 111
/// MiB once given back; `sscard bench revocations`), version 2 gives it back as it goes on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sscard",
    version,
    about = "Third-generation social security cards: card office, e-card and one-card platform"
)]
struct Cli {
    /// sqlite://PATH (embedded default) or postgres://USER@HOST/DB
    #[arg(long, global = true, env = "SSCARD_DATABASE_URL", default_value = "sqlite://sscard.db")]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (and the scheduled jobs).
    Serve(cmd::serve::ServeArgs),
    /// Seed the demo city into the database and print the demo logins.
    Demo,
    /// Manage login accounts.
    #[command(subcommand)]
    User(cmd::admin::UserCmd),
    /// Manage partner banks.
    #[command(subcommand)]
    Bank(cmd::admin::BankCmd),
    /// Manage bank branches.
    #[command(subcommand)]
    Branch(cmd::admin::BranchCmd),
    /// Run scheduled jobs on demand.
    #[command(subcommand)]
    Jobs(cmd::jobs::JobsCmd),
    /// Import data from CSV files.
    #[command(subcommand)]
    Import(cmd::import::ImportCmd),
    /// Check the hash-chained audit log.
    #[command(subcommand)]
    Audit(cmd::jobs::AuditCmd),
    /// QR issuer keys: rotate, list; personal data keys: rotate-data.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCmd),
    /// Terminals: add, disable, enable, list, simulate; and an offline QR verifier (sync, verify).
    #[command(subcommand)]
    Terminal(cmd::terminal::TerminalCmd),
    /// Operators of terminals (hospitals, transit companies, libraries, parks).
    #[command(subcommand)]
    Operator(cmd::onecard::OperatorCmd),
    /// The double-entry ledger: check the books.
    #[command(subcommand)]
    Ledger(cmd::onecard::LedgerCmd),
    /// Benefit payers (pension funds, tax offices, subsidy offices).
    #[command(subcommand)]
    Payer(cmd::benefits::PayerCmd),
    /// Benefits paid to the card's bank account: programs, batches, certification.
    #[command(subcommand)]
    Benefits(cmd::benefits::BenefitsCmd),
    /// The national hub: register deployments (add-deployment), list them.
    #[command(subcommand)]
    Hub(cmd::hub::HubCmd),
    /// Relay this deployment's outbox to NATS JetStream (docs/NATION.md), apart from the server.
    Relay(nation::RelayArgs),
    /// Benchmarks that report ratios against a baseline measured in the same run.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SSCARD_LOG")
                .unwrap_or_else(|_| "sscard=info,sscard_server=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let url = cli.database_url;
    match cli.command {
        Command::Serve(args) => cmd::serve::serve(&url, args).await,
        Command::Demo => cmd::serve::demo(&url).await,
        Command::User(c) => cmd::admin::user(&url, c).await,
        Command::Bank(c) => cmd::admin::bank(&url, c).await,
        Command::Branch(c) => cmd::admin::branch(&url, c).await,
        Command::Jobs(c) => cmd::jobs::jobs(&url, c).await,
        Command::Import(c) => cmd::import::import(&url, c).await,
        Command::Audit(c) => cmd::jobs::audit(&url, c).await,
        Command::Bench(c) => cmd::bench::bench(&url, c).await,
        Command::Hub(c) => cmd::hub::hub(&url, c).await,
        Command::Relay(a) => nation::relay(&url, a).await,
        Command::Keys(c) => cmd::keys::keys(&url, c).await,
        Command::Terminal(c) => cmd::terminal::terminal(&url, c).await,
        Command::Operator(c) => cmd::onecard::operator(&url, c).await,
        Command::Ledger(c) => cmd::onecard::ledger(&url, c).await,
        Command::Payer(c) => cmd::benefits::payer(&url, c).await,
        Command::Benefits(c) => cmd::benefits::benefits(&url, c).await,
    }
}
