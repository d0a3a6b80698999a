//! `sscard serve` and `sscard demo`.

use super::{open, progress};
use crate::demo::{self, DEMO_PASSWORD};
use anyhow::Context;
use clap::Args;
use sscard_domain::clock::Clock;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Seed the demo city first (once) and print the demo logins.
    #[arg(long)]
    demo: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seconds between runs of the scheduled jobs (auto-lift, dormant sweep, temporary expiry).
    #[arg(long, default_value_t = 3600)]
    jobs_every_s: u64,
    /// Behind a reverse proxy: the header it puts the client's address in (e.g.
    /// X-Forwarded-For). Only this header is believed, and only when given.
    #[arg(long, value_parser = parse_header_name)]
    client_address_header: Option<axum::http::HeaderName>,
    /// Run as the national hub (docs/NATION.md): deployments, claims, the national index,
    /// the nation's issuer keys and revocations. Register deployments with `sscard hub add-deployment`.
    #[arg(long)]
    hub: bool,
    #[command(flatten)]
    master: super::keys::MasterKeyArgs,
    #[command(flatten)]
    nation: crate::nation::NationArgs,
}

pub async fn serve(url: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Refuse to start without a master key before touching the database.
    let master = args.master.load(url)?;
    // Take the port before seeding: a demo seeded by a start that then cannot listen would
    // print its one-time terminal secrets to nobody.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let store = super::open_with(url, &master).await?;
    let mut demo_logins = Vec::new();
    if args.demo {
        demo_logins = seed_demo(store.as_ref()).await?;
    }
    let keys = std::sync::Arc::new(sscard_server::keys::KeyManager::new(&master));
    let nation = args.nation.start(&store, args.hub, &keys).await?;
    let options = sscard_server::ServeOptions {
        listen: args.listen,
        database_url: url.to_string(),
        policy: Default::default(),
        jobs_every_s: args.jobs_every_s,
        client_header: args.client_address_header,
        demo_password: if demo_logins.is_empty() { String::new() } else { DEMO_PASSWORD.to_string() },
        demo_logins,
        hub: args.hub.then(|| master.national_index_key()),
        nation: nation.link.clone(),
        national: nation.national.clone(),
        probes: nation.probes.clone(),
    };
    sscard_server::app::serve_on(listener, options, store, keys, |addr| {
        eprintln!(
            "sscard is serving on http://{addr}/ (API under http://{addr}/api/v1, OpenAPI at /api/v1/openapi.json)"
        );
        eprintln!("database: {url}; stop with Ctrl-C");
    })
    .await?;
    nation.stop().await;
    Ok(ExitCode::SUCCESS)
}

fn parse_header_name(s: &str) -> Result<axum::http::HeaderName, String> {
    axum::http::HeaderName::try_from(s).map_err(|e| format!("not a header name: {e}"))
}

pub async fn demo(url: &str) -> anyhow::Result<ExitCode> {
    let store = open(url).await?;
    let _logins = seed_demo(store.as_ref()).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Seeds the demo city (once) and answers its logins (username, role).
async fn seed_demo(store: &dyn sscard_store::Store) -> anyhow::Result<Vec<(String, sscard_domain::access::Role)>> {
    let bar = progress(demo::DEMO_PERSONS as u64, "seeding the demo city (region 350200)");
    let now = sscard_server::clock::SystemClock.now_ms();
    // Without a terminal the bar is hidden: print a line every 100 persons instead.
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = demo::seed(store, now, &|done, total| {
        bar.set_position(done);
        if plain && (done % 100 == 0 || done == total) {
            eprintln!("seeding the demo city: {done}/{total} persons");
        }
    })
    .await?;
    bar.finish_and_clear();
    if report.seeded {
        eprintln!("demo city seeded: 16 banks, 48 branches, {} persons with cards in every state", report.persons);
    } else {
        eprintln!("demo city already present; nothing seeded");
    }
    eprintln!("demo logins (password for all: {DEMO_PASSWORD}):");
    for l in &report.logins {
        eprintln!("  {:<12} {:<7} {}", l.username, l.role.as_str(), l.note);
    }
    if !report.terminals.is_empty() {
        eprintln!("demo terminals (Authorization: Bearer SECRET; shown this once):");
        for t in &report.terminals {
            eprintln!("  {:<8} {:<8} {}", t.operator, t.scenario, t.secret);
        }
    }
    Ok(report.logins.iter().map(|l| (l.username.clone(), l.role)).collect())
}
