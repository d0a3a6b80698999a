//! `sscard keys rotate|list`: the QR issuer keys. Rotation adds a new signing key valid for a
//! year; older keys keep verifying until their not_after (or, with --retire-after, until that
//! many seconds from now). A running server picks the new key up within a minute.

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
}

fn when(s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(s)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| s.to_string())
}

pub async fn keys(url: &str, cmd: KeysCmd) -> anyhow::Result<ExitCode> {
    let store = open(url).await?;
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
        KeysCmd::List => {
            for k in sscard_app::ecard::issuer_keys(store.as_ref()).await? {
                println!("{:>4}  {} .. {}", k.key_id, when(k.not_before_ms / 1000), when(k.not_after_ms / 1000));
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
