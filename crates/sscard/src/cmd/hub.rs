//! `sscard hub add-deployment|deployments|clearing`, on the hub's database (docs/NATION.md):
//! register a deployment and print its secret this once (the hub keeps only its hash), list
//! them, and print a day of the clearing between deployments (cross-province medical bills).

use super::{bad_field, cli_ctx, open};
use clap::Subcommand;
use sscard_app::nation_medical::ClearingDay;
use sscard_domain::nation::hub::parse_deployment;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum HubCmd {
    /// Register a deployment at this hub; prints its secret (CODE.<64 hex>) once.
    AddDeployment {
        /// 2-16 characters of A-Z, 0-9 and '-', starting with a letter (e.g. XM).
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Region prefixes it serves, comma separated (e.g. 3502,3505).
        #[arg(long)]
        regions: String,
        /// Its base URL, e.g. https://xm.example
        #[arg(long)]
        url: String,
    },
    /// List the deployments registered at this hub.
    Deployments,
    /// A day of the clearing between deployments (cross-province medical settlement): per
    /// pair of deployments the gross each way and the net, then each deployment's position.
    Clearing {
        /// The day, YYYY-MM-DD (China time: the day the hub recorded the bills on).
        #[arg(long)]
        day: String,
    },
}

pub async fn hub(url: &str, cmd: HubCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        HubCmd::AddDeployment { code, name, regions, url: dep_url } => {
            let info = parse_deployment(&code, &name, &regions, &dep_url).map_err(bad_field)?;
            let store = open(url).await?;
            let added = sscard_app::hub::add_deployment(store.as_ref(), &cli_ctx(), info).await;
            // The hub presents the deployment's own secret when it forwards a cross-province
            // request to it, so it keeps it sealed beside the hash it authenticates with.
            let sealed = match &added {
                Ok(a) => {
                    let ctx = cli_ctx();
                    sscard_app::national::remember_secret(
                        store.as_ref(),
                        &a.deployment.info.code,
                        &a.secret,
                        ctx.now_ms,
                    )
                    .await
                }
                Err(_) => Ok(()),
            };
            store.close().await;
            let added = added?;
            sealed?;
            eprintln!(
                "deployment {} registered; give it this secret (SSCARD_HUB_SECRET), shown this once:",
                added.deployment.info.code
            );
            println!("{}", added.secret);
        }
        HubCmd::Deployments => {
            let store = open(url).await?;
            let all = sscard_app::hub::deployments(store.as_ref()).await;
            store.close().await;
            for d in all? {
                println!("{}\t{}\t{}\t{}", d.info.code, d.info.regions.join(","), d.info.url, d.info.name);
            }
        }
        HubCmd::Clearing { day } => {
            sscard_domain::nation::medical::check_day(&day).map_err(bad_field)?;
            let store = open(url).await?;
            let cleared = sscard_app::nation_medical::clearing_day(store.as_ref(), &day).await;
            store.close().await;
            print!("{}", clearing_table(&cleared?));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The day as a table: one line per pair of deployments (the debtor first, what each side's
/// entries owe the other, the net the debtor pays), then the positions and their sum, which
/// is zero (printed, not assumed, so a reader sees the books balance). Amounts in fen.
fn clearing_table(d: &ClearingDay) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "clearing of {}: {} entries, {} pairs (amounts in fen)", d.day, d.entries, d.pairs.len());
    let _ = writeln!(
        out,
        "{:<16} {:<16} {:>16} {:>16} {:>16} {:>8}",
        "debtor", "creditor", "debtor owed", "creditor owed", "net", "entries"
    );
    for p in &d.pairs {
        let _ = writeln!(
            out,
            "{:<16} {:<16} {:>16} {:>16} {:>16} {:>8}",
            p.debtor.as_str(),
            p.creditor.as_str(),
            p.debtor_owed_fen,
            p.creditor_owed_fen,
            p.net_fen,
            p.entries
        );
    }
    let _ = writeln!(out, "positions (positive: the hub owes the deployment)");
    for (code, fen) in &d.positions {
        let _ = writeln!(out, "{:<16} {:>16}", code.as_str(), fen);
    }
    let _ = writeln!(out, "{:<16} {:>16}", "sum", d.positions.values().sum::<i64>());
    out
}
