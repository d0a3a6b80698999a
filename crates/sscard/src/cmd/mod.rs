//! One module per command group.

pub mod admin;
pub mod bank_files;
pub mod bench;
pub mod bench_benefits;
pub mod bench_benefits_seed;
pub mod bench_ecard;
pub mod bench_onecard;
pub mod bench_relay;
pub mod bench_revocations;
pub mod bench_scale;
pub mod benefits;
pub mod hub;
pub mod import;
pub mod jobs;
pub mod keys;
pub mod onecard;
pub mod serve;
pub mod terminal;

use sscard_app::Ctx;
use sscard_domain::access::{Actor, Role};
use sscard_domain::clock::Clock;
use sscard_domain::policy::Policy;
use sscard_store::Store;
use std::sync::Arc;

/// Opens the database with the master key of `SSCARD_MASTER_KEY` or the SQLite database's key
/// file (personal data is sealed under keys derived from it), with a clear message when it cannot.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let master = sscard_server::keys::MasterKey::load(url, None)?;
    open_with(url, &master).await
}

/// Opens the database with this master key.
pub async fn open_with(url: &str, master: &sscard_server::keys::MasterKey) -> anyhow::Result<Arc<dyn Store>> {
    sscard_store_sql::open(url, master.data_keys()).await.map_err(|e| anyhow::anyhow!("cannot open {url}: {e}"))
}

/// The context of a CLI operation: the operator acts as admin, now.
pub fn cli_ctx() -> Ctx {
    let now = sscard_server::clock::SystemClock.now_ms();
    Ctx::new(Actor { name: "cli".into(), role: Role::Admin, person_id: None, bank_code: None }, now, Policy::default())
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar
}

/// A field refused at the edge, as the CLI says it: `bad <field>: <why>`.
pub fn bad_field(e: sscard_domain::error::DomainError) -> anyhow::Error {
    anyhow::anyhow!("bad {}: {}", e.field.unwrap_or("argument"), e.message)
}
