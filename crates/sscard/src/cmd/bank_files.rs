//! `sscard benefits bank-files BATCH --payer P --dir D` and `sscard benefits bank-report FILE`:
//! the banks' side of a benefit batch from the command line. `bank-files` writes, for each bank
//! the batch paid, `<batch>-<bank>.pain.001.xml` and `<batch>-<bank>.csv`, streamed to disk;
//! `bank-report` applies a bank's pain.002 (or its CSV) and prints what changed.

use super::{bad_field, cli_ctx, open};
use anyhow::Context;
use sscard_app::bank_files::report::{apply_report, read_report};
use sscard_app::bank_files::{self, FileFormat};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The file name part of a batch or bank id: letters, digits, `-` and `_` kept, others `_`.
fn file_part(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Writes one pain.001 and one CSV per bank into `dir`, all in one pass over the batch's paid
/// lines; returns the paths written, each bank's pain.001 then its CSV.
pub async fn write_files(
    store: &dyn sscard_store::Store,
    payer: &str,
    batch_id: &str,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files = bank_files::bank_files(store, &cli_ctx(), payer, batch_id).await?;
    let path = |bank: &str, format: FileFormat| {
        let ext = match format {
            FileFormat::Pain001 => "pain.001.xml",
            FileFormat::Csv => "csv",
        };
        dir.join(format!("{}-{}.{ext}", file_part(batch_id), file_part(bank)))
    };
    let open = |bank: &str, format: FileFormat| std::fs::File::create(path(bank, format)).map(BufWriter::new);
    let mut written = Vec::new();
    for (bank, format, mut out) in bank_files::write_all_bank_files(store, &files, open).await? {
        let p = path(&bank, format);
        out.flush().with_context(|| format!("cannot write {}", p.display()))?;
        written.push(p);
    }
    Ok(written)
}

/// `sscard benefits bank-files`.
pub async fn bank_files_cmd(url: &str, batch_id: &str, payer: &str, dir: &Path) -> anyhow::Result<ExitCode> {
    let store = open(url).await?;
    let payer = payer.trim().to_ascii_uppercase();
    let files = bank_files::bank_files(store.as_ref(), &cli_ctx(), &payer, batch_id).await?;
    let written = write_files(store.as_ref(), &payer, batch_id, dir).await?;
    for (bank, pair) in files.banks.iter().zip(written.chunks(2)) {
        println!("{:<8} {:>9} lines {:>14} fen", bank.bank_code, bank.lines, bank.total_fen);
        for p in pair {
            println!("  {}", p.display());
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `sscard benefits bank-report`.
pub async fn bank_report_cmd(url: &str, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let report = read_report(&bytes).map_err(bad_field)?;
    let store = open(url).await?;
    let o = apply_report(store.as_ref(), &cli_ctx(), &report).await?;
    println!(
        "{} records: {} credited, {} returned ({} fen back to the payers), {} unchanged, {} pending, {} refused",
        o.records, o.credited, o.returned, o.returned_fen, o.unchanged, o.pending, o.refused
    );
    for r in &o.refusals {
        println!("  refused {} {}: {}", r.end_to_end_id, r.status, r.reason);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
