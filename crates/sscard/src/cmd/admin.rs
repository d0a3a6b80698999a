//! `sscard user|bank|branch add`.

use super::{bad_field, cli_ctx, open};
use anyhow::Context;
use clap::Subcommand;
use sscard_app::{admin, fields};
use sscard_domain::access::Role;
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};
use sscard_store::{Bank, Branch};
use std::io::Read;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a login; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin | clerk | teller | holder | terminal | payer
        #[arg(long)]
        role: String,
        /// The person a holder account belongs to.
        #[arg(long)]
        person_id: Option<String>,
        /// The bank a teller works for.
        #[arg(long)]
        bank_code: Option<String>,
        /// A teller's own branch (of --bank-code): the desk starts from it.
        #[arg(long)]
        branch: Option<String>,
        /// The payer a payer login works for.
        #[arg(long)]
        payer_code: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum BankCmd {
    /// Add a partner bank.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// 6-8 digit card BIN.
        #[arg(long)]
        bin: String,
    },
}

#[derive(Subcommand)]
pub enum BranchCmd {
    /// Add a branch to a bank.
    Add {
        #[arg(long)]
        bank_code: String,
        #[arg(long)]
        code: String,
        /// 6-digit region code.
        #[arg(long)]
        region: String,
        /// The branch has a card printer (instant issuance).
        #[arg(long)]
        printer: bool,
        #[arg(long)]
        name: Option<String>,
    },
}

pub async fn user(url: &str, cmd: UserCmd) -> anyhow::Result<ExitCode> {
    let UserCmd::Add { username, role, person_id, bank_code, branch, payer_code, password_stdin: _ } = cmd;
    let role = Role::parse(&role)
        .with_context(|| format!("unknown role {role:?}: admin, clerk, teller, holder, terminal or payer"))?;
    let mut password = String::new();
    std::io::stdin().take(1024).read_to_string(&mut password).context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let bank_code = bank_code.as_deref().map(|b| fields::bank_code(b, "bank-code")).transpose().map_err(bad_field)?;
    let branch_code = branch.as_deref().map(|b| fields::branch_code(b, "branch")).transpose().map_err(bad_field)?;
    sscard_domain::access::check_user_branch(role, branch_code.is_some()).map_err(bad_field)?;
    let store = open(url).await?;
    let user = match (role, payer_code) {
        (Role::Payer, Some(payer)) => {
            sscard_app::benefits::add_payer_user(store.as_ref(), &cli_ctx(), &username, password, &payer).await?
        }
        (Role::Payer, None) => anyhow::bail!("a payer login works for a payer: give --payer-code"),
        _ => {
            let links = admin::UserLinks { person_id, bank_code, branch_code };
            admin::add_user_with(store.as_ref(), &cli_ctx(), &username, password, role, links).await?
        }
    };
    println!("user {} ({}) created", user.username, user.role.as_str());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn bank(url: &str, cmd: BankCmd) -> anyhow::Result<ExitCode> {
    let BankCmd::Add { code, name, bin } = cmd;
    let bank = Bank { code: BankCode::parse(&code)?, name, bin: Bin::parse(&bin)? };
    let store = open(url).await?;
    let bank = admin::add_bank(store.as_ref(), &cli_ctx(), bank).await?;
    println!("bank {} ({}) added with BIN {}", bank.code, bank.name, bank.bin.as_str());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn branch(url: &str, cmd: BranchCmd) -> anyhow::Result<ExitCode> {
    let BranchCmd::Add { bank_code, code, region, printer, name } = cmd;
    let branch = Branch {
        bank_code: BankCode::parse(&bank_code)?,
        code: BranchCode::parse(&code)?,
        name: name.unwrap_or_else(|| code.clone()),
        region: RegionCode::parse(&region)?,
        has_printer: printer,
    };
    let store = open(url).await?;
    let branch = admin::add_branch(store.as_ref(), &cli_ctx(), branch).await?;
    println!(
        "branch {}/{} added in {}{}",
        branch.bank_code,
        branch.code,
        branch.region,
        if branch.has_printer { " with a card printer" } else { "" }
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
