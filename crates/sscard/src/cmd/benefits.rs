//! `sscard payer add`, `sscard benefits program add|submit|resume|status|certify`: benefits
//! paid to the card's bank account. `submit` reads the CSV a chunk at a time (never the whole
//! file), shows a progress bar while the lines arrive and while they are paid, and prints the
//! batch's summary; run again after a crash, it resumes the batch and pays nothing twice.

use super::{bad_field, cli_ctx, open, progress};
use anyhow::Context;
use clap::Subcommand;
use sscard_app::benefits::csv_lines::CsvLines;
use sscard_app::benefits::{self, BatchSummary, NewPayer, NewProgram, pay};
use sscard_domain::benefits::{BatchStatus, CHUNK_LINES, Envelope};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PayerCmd {
    /// Add a payer organisation (pension fund, tax office, subsidy office) with its ledger account.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// 6-digit region code.
        #[arg(long)]
        region: String,
    },
}

#[derive(Subcommand)]
pub enum ProgramCmd {
    /// Add a benefit program.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// pension | unemployment | injury | subsidy | tax_refund | housing
        #[arg(long)]
        kind: String,
        /// Its lines are paid only to persons certified within the last 12 months.
        #[arg(long)]
        needs_certification: bool,
    },
}

#[derive(Subcommand)]
pub enum BenefitsCmd {
    /// Benefit programs.
    #[command(subcommand)]
    Program(ProgramCmd),
    /// Submit a batch from a CSV file (header line_id,ssn,name,amount_fen) and pay it.
    Submit {
        file: std::path::PathBuf,
        #[arg(long)]
        payer: String,
        #[arg(long)]
        program: String,
        /// YYYY-MM
        #[arg(long)]
        period: String,
        #[arg(long)]
        batch_id: String,
        #[arg(long)]
        declared_lines: u64,
        #[arg(long)]
        declared_total_fen: i64,
    },
    /// Pay every batch a stopped process left unfinished.
    Resume,
    /// A batch's status, progress and totals per outcome.
    Status {
        batch_id: String,
        #[arg(long)]
        payer: String,
    },
    /// Record a person's eligibility certification at the counter (valid 12 months).
    Certify {
        #[arg(long)]
        person_id: String,
    },
    /// Write each bank's credit file of a finished batch: BATCH-BANK.pain.001.xml and BATCH-BANK.csv.
    BankFiles {
        batch_id: String,
        #[arg(long)]
        payer: String,
        #[arg(long)]
        dir: std::path::PathBuf,
    },
    /// Apply a bank's status report (pain.002 XML, or CSV end_to_end_id,status,reason).
    BankReport { file: std::path::PathBuf },
}

pub async fn payer(url: &str, cmd: PayerCmd) -> anyhow::Result<ExitCode> {
    let PayerCmd::Add { code, name, region } = cmd;
    let cmd = NewPayer::parse(&code, &name, &region).map_err(bad_field)?;
    let store = open(url).await?;
    let p = benefits::add_payer(store.as_ref(), &cli_ctx(), &cmd).await?;
    println!("payer {} ({}) added with account {}", p.code, p.name, p.account_id);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn benefits(url: &str, cmd: BenefitsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenefitsCmd::Program(ProgramCmd::Add { code, name, kind, needs_certification }) => {
            let cmd = NewProgram::parse(&code, &name, &kind, needs_certification).map_err(bad_field)?;
            let store = open(url).await?;
            let p = benefits::add_program(store.as_ref(), &cli_ctx(), &cmd).await?;
            let cert = if p.needs_certification { ", needs certification" } else { "" };
            println!("program {} ({}, {}{cert}) added", p.code, p.name, p.kind);
            store.close().await;
        }
        BenefitsCmd::Submit { file, payer, program, period, batch_id, declared_lines, declared_total_fen } => {
            let env = Envelope::parse(&payer, &batch_id, &program, &period, declared_lines, declared_total_fen)
                .map_err(bad_field)?;
            return submit(url, &file, env).await;
        }
        BenefitsCmd::Resume => {
            let store = open(url).await?;
            let n = pay::resume_all(store.as_ref(), &cli_ctx()).await?;
            println!("{n} batch(es) resumed and paid");
            store.close().await;
        }
        BenefitsCmd::Status { batch_id, payer } => {
            let store = open(url).await?;
            let payer = payer.trim().to_ascii_uppercase();
            let s = pay::summary(store.as_ref(), &cli_ctx(), &payer, &batch_id).await?;
            print_summary(&s);
            store.close().await;
        }
        BenefitsCmd::BankFiles { batch_id, payer, dir } => {
            return super::bank_files::bank_files_cmd(url, &batch_id, &payer, &dir).await;
        }
        BenefitsCmd::BankReport { file } => return super::bank_files::bank_report_cmd(url, &file).await,
        BenefitsCmd::Certify { person_id } => {
            let store = open(url).await?;
            let c = benefits::certify(store.as_ref(), &cli_ctx(), &person_id).await?;
            println!("person {} certified; valid until {}", c.person_id, c.valid_until_ms);
            store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Receives the file a chunk at a time, then pays the batch, with a progress bar for each.
async fn submit(url: &str, file: &std::path::Path, env: Envelope) -> anyhow::Result<ExitCode> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut csv = CsvLines::new(std::io::BufReader::new(input));
    let store = open(url).await?;
    let ctx = cli_ctx();
    let declared = env.declared_lines;
    let mut intake = benefits::begin(store.as_ref(), &ctx, env).await?;
    let bar = progress(declared, if intake.is_replay() { "checking" } else { "receiving" });
    loop {
        let chunk = match csv.next_chunk(CHUNK_LINES) {
            Ok(c) => c,
            Err(e) => {
                intake.abort(store.as_ref()).await?;
                bar.abandon();
                return Err(bad_field(e));
            }
        };
        if chunk.is_empty() {
            break;
        }
        intake.push(store.as_ref(), &chunk).await.inspect_err(|_| bar.abandon())?;
        bar.set_position(intake.lines());
    }
    let batch = intake.finish(store.as_ref(), &ctx).await.inspect_err(|_| bar.abandon())?;
    bar.finish_and_clear();
    let bar = progress(declared, "paying");
    bar.set_position(batch.done_through as u64);
    let batch =
        pay::run_batch(store.as_ref(), &ctx, batch.batch_no, &mut |b| bar.set_position(b.done_through as u64)).await?;
    bar.finish_and_clear();
    let s = pay::summary_of(store.as_ref(), batch).await?;
    print_summary(&s);
    store.close().await;
    Ok(if s.batch.status == BatchStatus::Done { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_summary(s: &BatchSummary) {
    let b = &s.batch;
    println!("batch {} of {}: {} {} {}", b.batch_id, b.payer_code, b.program_code, b.period, b.status);
    println!("  declared  {} lines  {} fen", b.declared_lines, b.declared_total_fen);
    println!("  decided   {} of {} lines", s.decided_lines, b.received_lines);
    for o in &s.outcomes {
        println!("  {:<22} {:>9} lines {:>14} fen", o.outcome.as_str(), o.lines, o.total_fen);
    }
}
