//! `sscard keys rotate|list`: the QR issuer keys. Rotation adds a new signing key valid for a
//! year; older keys keep verifying until their not_after (or, with --retire-after, until that
//! many seconds from now). A running server picks the new key up within a minute.
//!
//! `sscard keys rotate-data`: a new data key version for personal data at rest, every row
//! re-sealed under it in short transactions while servers keep running (they take the new
//! version up within a second). Interrupted, it finishes the same version when run again.

use super::{cli_ctx, open};
use clap::{Args, Subcommand};
use sscard_server::keys::{KeyManager, MasterKey};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the master key is, for commands that open issuer keys.
#[derive(Args, Clone, Default)]
pub struct MasterKeyArgs {
    /// Master key file (64 hex characters; created with mode 0600 if missing). Default:
    /// SSCARD_MASTER_KEY, else `<sqlite database path>.master.key`; PostgreSQL needs one of them.
    #[arg(long)]
    pub master_key_file: Option<PathBuf>,
}

impl MasterKeyArgs {
    pub fn load(&self, url: &str) -> anyhow::Result<MasterKey> {
        Ok(MasterKey::load(url, self.master_key_file.as_deref())?)
    }
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Add a new signing key (valid from now for a year).
    Rotate {
        #[command(flatten)]
        master: MasterKeyArgs,
        /// Older keys stop being valid this many seconds from now (default: they keep their not_after).
        #[arg(long)]
        retire_after: Option<i64>,
    },
    /// List the public issuer keys.
    List,
    /// Re-seal personal data at rest under a new data key version (online, in chunks).
    RotateData {
        #[command(flatten)]
        master: MasterKeyArgs,
        /// Rows re-sealed per transaction (1 to 10,000).
        #[arg(long, default_value_t = 500)]
        chunk: u32,
    },
}

fn when(s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(s)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| s.to_string())
}

/// `keys rotate-data`: prints progress per table and the rows re-sealed.
async fn rotate_data(url: &str, master: &MasterKeyArgs, chunk: u32) -> anyhow::Result<ExitCode> {
    let master = master.load(url)?;
    // Opening checks the master key against the stored versions before anything is written.
    let store = sscard_store_sql::open_sql(url, master.data_keys())
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {url}: {e}"))?;
    let from = store.data_key_version();
    let mut progress = |table: &'static str, n: u64| eprintln!("  {table}: {n} rows re-sealed");
    let done = store.rotate_data(chunk.clamp(1, 10_000), &mut progress).await;
    sscard_store::Store::close(&store).await;
    let done = done?;
    if done.added {
        println!("data key version {} added (was {from}); every row is sealed under it", done.version);
    } else {
        println!("finished the interrupted rotation to data key version {}", done.version);
    }
    for (table, n) in &done.counts {
        println!("  {table:<22} {n:>9} rows re-sealed");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn keys(url: &str, cmd: KeysCmd) -> anyhow::Result<ExitCode> {
    let store = match cmd {
        KeysCmd::RotateData { master, chunk } => return rotate_data(url, &master, chunk).await,
        KeysCmd::Rotate { ref master, .. } => super::open_with(url, &master.load(url)?).await?,
        KeysCmd::List => open(url).await?,
    };
    match cmd {
        KeysCmd::Rotate { master, retire_after } => {
            let manager = KeyManager::new(&master.load(url)?);
            let ctx = cli_ctx();
            // Opening the existing keys first proves the master key is the right one.
            manager.reload(store.as_ref()).await?;
            let row = manager.rotate(store.as_ref(), &ctx, retire_after).await?;
            println!(
                "issuer key {} added: signs from {} until {}",
                row.key_id,
                when(row.not_before_ms / 1000),
                when(row.not_after_ms / 1000)
            );
            if let Some(s) = retire_after {
                println!("older keys stop verifying {} (in {s} s)", when(ctx.now_ms / 1000 + s.max(0)));
            }
        }
        KeysCmd::RotateData { .. } => {}
        KeysCmd::List => {
            for k in sscard_app::ecard::issuer_keys(store.as_ref()).await? {
                println!("{:>4}  {} .. {}", k.key_id, when(k.not_before_ms / 1000), when(k.not_after_ms / 1000));
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
