//! `sscard import cards FILE.csv`: older-generation cards that keep working until the
//! holder activates a third-generation card.
//!
//! The file has a header line and these columns (plain CSV, no quoted fields):
//! `doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on`
//! (sex and birth_date may be empty when the document carries them).

use super::{cli_ctx, open, progress};
use anyhow::{Context, bail};
use clap::Subcommand;
use sscard_app::import::{ImportRow, MAX_ROWS, RowOutcome, import_row};
use sscard_domain::document::{DocType, Sex};
use sscard_domain::ids::RegionCode;
use sscard_domain::person::RegistrationInput;
use std::process::ExitCode;

const HEADER: &str = "doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on";

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import second-generation cards from a CSV file.
    Cards { file: std::path::PathBuf },
}

fn date(s: &str) -> anyhow::Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), format).with_context(|| format!("{s:?} is not YYYY-MM-DD"))
}

fn parse_line(line: &str) -> anyhow::Result<ImportRow> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 10 {
        bail!("expected 10 columns ({HEADER}), found {}", f.len());
    }
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(ImportRow {
        person: RegistrationInput {
            doc_type: DocType::parse(f[0])?,
            doc_number: f[1].to_string(),
            name: f[2].to_string(),
            sex: opt(f[3]).map(|s| Sex::parse(&s)).transpose()?,
            birth_date: opt(f[4]).map(|s| date(&s)).transpose()?,
            region: RegionCode::parse(f[5])?,
            guardian_id: None,
            relationship_proof: None,
        },
        card_no: f[6].to_string(),
        bank_code: f[7].to_string(),
        issued_on: date(f[8])?,
        expires_on: date(f[9])?,
    })
}

pub async fn import(url: &str, cmd: ImportCmd) -> anyhow::Result<ExitCode> {
    let ImportCmd::Cards { file } = cmd;
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, header)) if header.trim().trim_start_matches('\u{feff}') == HEADER => {}
        _ => bail!("the first line must be the header: {HEADER}"),
    }
    let lines: Vec<(usize, &str)> = lines.collect();
    if lines.len() > MAX_ROWS {
        bail!("the file has {} rows; at most {MAX_ROWS} per import", lines.len());
    }
    let store = open(url).await?;
    let ctx = cli_ctx();
    let bar = progress(lines.len() as u64, "importing cards");
    let (mut imported, mut skipped) = (0u64, Vec::new());
    for (n, line) in lines {
        let outcome = match parse_line(line) {
            Ok(row) => import_row(store.as_ref(), &ctx, &row).await.map_err(anyhow::Error::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(RowOutcome::Imported) => imported += 1,
            Ok(RowOutcome::Skipped(why)) => skipped.push(format!("line {}: {why}", n + 1)),
            Err(e) => skipped.push(format!("line {}: {e}", n + 1)),
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
