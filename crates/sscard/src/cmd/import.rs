//! `sscard import cards FILE.csv`: older-generation cards that keep working until the
//! holder activates a third-generation card.
//!
//! The file format and its parser are in `sscard_app::import` ([`sscard_app::import::CSV_HEADER`]).

use super::{cli_ctx, open, progress};
use anyhow::Context;
use clap::Subcommand;
use sscard_app::import::{RowOutcome, count_lines, import_lines, import_row, parse_row};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import second-generation cards from a CSV file.
    Cards { file: std::path::PathBuf },
}

pub async fn import(url: &str, cmd: ImportCmd) -> anyhow::Result<ExitCode> {
    let ImportCmd::Cards { file } = cmd;
    let open_file = || std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()));
    // Read twice, never held whole: first checked and counted (a wrong header, bytes that are
    // not text or too many rows refuse the file before anything is imported), then imported.
    let total = count_lines(open_file()?).with_context(|| format!("reading {}", file.display()))?;
    let mut lines = import_lines(open_file()?)?;
    let store = open(url).await?;
    let ctx = cli_ctx();
    let bar = progress(total as u64, "importing cards");
    let (mut imported, mut skipped) = (0u64, Vec::new());
    while let Some(line) = lines.next_row()? {
        let outcome = match parse_row(&line.fields) {
            Ok(row) => import_row(store.as_ref(), &ctx, &row).await.map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::Error::from(e)),
        };
        let n = line.line;
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
