//! `sscard jobs run NAME [--as-of DATE]` and `sscard audit verify`.

use super::{cli_ctx, open, progress};
use anyhow::Context;
use clap::Subcommand;
use sscard_app::{audit, jobs};
use sscard_domain::access::Actor;
use sscard_domain::clock::start_of_day_ms;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum JobsCmd {
    /// Run a job now: auto_lift | dormant_sweep | temporary_expiry | all
    Run {
        name: String,
        /// Run as of this date (YYYY-MM-DD, China time, at noon) instead of now.
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Seal pending records and recompute every link; exits 1 at the first broken link.
    Verify,
}

pub async fn jobs(url: &str, cmd: JobsCmd) -> anyhow::Result<ExitCode> {
    let JobsCmd::Run { name, as_of } = cmd;
    let selected: Vec<jobs::Job> = if name == "all" {
        jobs::Job::ALL.to_vec()
    } else {
        vec![
            jobs::Job::parse(&name)
                .with_context(|| format!("no job {name:?}: auto_lift, dormant_sweep, temporary_expiry or all"))?,
        ]
    };
    let mut ctx = cli_ctx();
    if let Some(date) = as_of {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(&date, format).with_context(|| format!("--as-of {date:?} is not YYYY-MM-DD"))?;
        ctx.now_ms = start_of_day_ms(date) + 12 * 3_600_000;
    }
    let store = open(url).await?;
    for job in selected {
        ctx.actor = Actor { name: format!("cli:{}", job.name()), ..ctx.actor.clone() };
        let bar = progress(0, job.name());
        let report = jobs::run(store.as_ref(), &ctx, job, &|n| bar.set_position(n)).await?;
        bar.finish_and_clear();
        println!("{}", serde_json::to_string(&report)?);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn audit(url: &str, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    let AuditCmd::Verify = cmd;
    let store = open(url).await?;
    let report = audit::verify(store.as_ref()).await?;
    store.close().await;
    match &report.broken {
        None => {
            println!("audit chain intact: {} records checked, head at {}", report.checked, report.head_pos);
            Ok(ExitCode::SUCCESS)
        }
        Some(b) => {
            println!("audit chain BROKEN at chain position {} (record seq {}): {}", b.chain_pos, b.seq, b.reason);
            Ok(ExitCode::from(1))
        }
    }
}
