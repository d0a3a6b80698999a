//! `sscard hub add-deployment|deployments`, on the hub's database (docs/NATION.md): register a
//! deployment and print its secret this once (the hub keeps only its hash), and list them.

use super::{bad_field, cli_ctx, open};
use clap::Subcommand;
use sscard_domain::nation::hub::parse_deployment;
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
    }
    Ok(ExitCode::SUCCESS)
}
