//! `sscard import cards FILE.csv`: older-generation cards that keep working until the
//! holder activates a third-generation card.
//!
//! The file format and its parser are in `sscard_app::import` ([`sscard_app::import::CSV_HEADER`]).

use super::{cli_ctx, open, progress};
use anyhow::Context;
use clap::Subcommand;
use sscard_app::import::{RowOutcome, csv_lines, import_row, parse_csv_line};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import second-generation cards from a CSV file.
    Cards { file: std::path::PathBuf },
}

pub async fn import(url: &str, cmd: ImportCmd) -> anyhow::Result<ExitCode> {
    let ImportCmd::Cards { file } = cmd;
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let lines = csv_lines(&text)?;
    let store = open(url).await?;
    let ctx = cli_ctx();
    let bar = progress(lines.len() as u64, "importing cards");
    let (mut imported, mut skipped) = (0u64, Vec::new());
    for (n, line) in lines {
        let outcome = match parse_csv_line(line) {
            Ok(row) => import_row(store.as_ref(), &ctx, &row).await.map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::Error::from(e)),
        };
        match outcome {
            Ok(RowOutcome::Imported) => imported += 1,
            Ok(RowOutcome::Skipped(why)) => skipped.push(format!("line {n}: {why}")),
            Err(e) => skipped.push(format!("line {n}: {e}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    store.close().await;
    println!("imported {imported} cards, skipped {}", skipped.len());
    for s in skipped.iter().take(1000) {
        println!("  {s}");
    }
    Ok(if skipped.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
