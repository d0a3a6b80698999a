//! `sscard terminal sync|verify`: an offline verifier like the ones hospitals and transit
//! gates embed. `sync` pulls the issuer keys and the revocation list (incrementally from the
//! last sequence number) into a local JSON file ([`OfflineSnapshot`]); `verify` checks a QR
//! token against that file with no network at all and exits 0 (valid) or 1 (invalid). Synced
//! at the national hub, the file holds every deployment's keys (key ids unique in the nation)
//! and the merged revocation list, so QR codes of any deployment verify (docs/NATION.md).

use anyhow::Context;
use clap::Subcommand;
use serde::Deserialize;
use sscard_gm::offline::{DEFAULT_CLOCK_SKEW_S, OfflineSnapshot, OfflineVerifier, PublishedKey, hex_ids};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Pages fetched at most in one sync (each up to 10,000 entries).
const MAX_PAGES: usize = 10_000;

#[derive(Subcommand)]
pub enum TerminalCmd {
    /// Pull the issuer keys and the revocation list into the local file.
    Sync {
        /// The sscard server, e.g. http://127.0.0.1:8080; the national hub gives every
        /// deployment's keys and the merged revocation list (QR codes of the whole nation).
        #[arg(long)]
        server: String,
        #[arg(long, default_value = "sscard-terminal.json")]
        file: PathBuf,
    },
    /// Verify a QR token offline against the local file.
    Verify {
        token: String,
        #[arg(long, default_value = "sscard-terminal.json")]
        file: PathBuf,
        /// Verify as of this unix second (default: now).
        #[arg(long)]
        now: Option<i64>,
    },
    #[command(flatten)]
    Onecard(crate::cmd::onecard::TerminalAdminCmd),
}

#[derive(Deserialize)]
struct Change {
    ecard_id: String,
    usable: bool,
}

#[derive(Deserialize)]
struct Page {
    revoked: Vec<String>,
    changes: Vec<Change>,
    next_since: i64,
    next_after: Option<String>,
    more: bool,
}

pub async fn terminal(url: &str, cmd: TerminalCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TerminalCmd::Onecard(c) => crate::cmd::onecard::terminal(url, c).await,
        TerminalCmd::Sync { server, file } => sync(&server, &file).await,
        TerminalCmd::Verify { token, file, now } => verify(&token, &file, now),
    }
}

fn load(file: &Path) -> anyhow::Result<Option<OfflineSnapshot>> {
    match std::fs::read_to_string(file) {
        Ok(text) => {
            Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} is not a snapshot", file.display()))?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

fn id(hex: &str) -> anyhow::Result<[u8; 16]> {
    hex_ids::decode(hex).with_context(|| format!("the server sent a bad e-card id {hex:?}"))
}

async fn get<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> anyhow::Result<T> {
    let resp = client.get(url).send().await.with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!("GET {url}: {status}: {}", resp.text().await.unwrap_or_default());
    }
    resp.json::<T>().await.with_context(|| format!("GET {url}: unexpected answer"))
}

async fn sync(server: &str, file: &Path) -> anyhow::Result<ExitCode> {
    let base = server.trim_end_matches('/');
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build()?;
    let old = load(file)?;
    let keys: Vec<PublishedKey> = get(&client, &format!("{base}/api/v1/ecard/keys")).await?;
    let (mut revoked, mut seq, full) = match &old {
        Some(s) if s.revocations_seq > 0 => {
            (s.revoked.iter().copied().collect(), i64::try_from(s.revocations_seq).unwrap_or(i64::MAX), false)
        }
        _ => {
            let (revoked, seq) = full_list(&client, base).await?;
            (revoked, seq, true)
        }
    };
    let listed = if full { revoked.len() } else { 0 };
    let (added, removed) = apply_changes(&client, base, &mut revoked, &mut seq).await?;
    let added = listed + added;
    let snapshot = OfflineSnapshot {
        keys,
        revoked: revoked.into_iter().collect(),
        revocations_seq: u64::try_from(seq).unwrap_or(0),
        clock_skew_s: old.as_ref().map_or(DEFAULT_CLOCK_SKEW_S, |s| s.clock_skew_s),
    };
    save(file, &snapshot)?;
    println!(
        "synced {}: {} key(s), {} revoked e-card(s) ({}: +{added} -{removed}), current to seq {seq}",
        file.display(),
        snapshot.keys.len(),
        snapshot.revoked.len(),
        if full { "full list" } else { "changes" },
    );
    Ok(ExitCode::SUCCESS)
}

/// The whole revocation list, page by page: the revoked e-cards and the sequence number the
/// list is current to.
async fn full_list(client: &reqwest::Client, base: &str) -> anyhow::Result<(BTreeSet<[u8; 16]>, i64)> {
    let mut revoked = BTreeSet::new();
    let mut seq = 0i64;
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut url = format!("{base}/api/v1/revocations?since=0");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Page = get(client, &url).await?;
        for r in &page.revoked {
            revoked.insert(id(r)?);
        }
        // The cursor of the first page is the one the whole list is current to.
        if after.is_none() {
            seq = page.next_since;
        }
        match page.next_after {
            Some(a) if page.more => after = Some(a),
            _ => break,
        }
    }
    Ok((revoked, seq))
}

/// Applies the changes after `seq` to `revoked` and moves `seq` on: how many e-cards were
/// added to and removed from the list.
async fn apply_changes(
    client: &reqwest::Client,
    base: &str,
    revoked: &mut BTreeSet<[u8; 16]>,
    seq: &mut i64,
) -> anyhow::Result<(usize, usize)> {
    let (mut added, mut removed) = (0usize, 0usize);
    // seq 0 means no event exists yet: the next sync simply takes the (empty) full list again.
    for _ in 0..if *seq > 0 { MAX_PAGES } else { 0 } {
        let page: Page = get(client, &format!("{base}/api/v1/revocations?since={seq}")).await?;
        for c in &page.changes {
            let ecard = id(&c.ecard_id)?;
            if c.usable {
                removed += usize::from(revoked.remove(&ecard));
            } else {
                added += usize::from(revoked.insert(ecard));
            }
        }
        *seq = (*seq).max(page.next_since);
        if !page.more {
            break;
        }
    }
    Ok((added, removed))
}

/// Writes the snapshot to `file` (through a temporary file, so a crash leaves the old one),
/// refusing keys the verifier could not load.
fn save(file: &Path, snapshot: &OfflineSnapshot) -> anyhow::Result<()> {
    OfflineVerifier::from_snapshot(snapshot).context("the server's issuer keys do not load")?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(snapshot)?).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("replace {}", file.display()))?;
    Ok(())
}

fn verify(token: &str, file: &Path, now: Option<i64>) -> anyhow::Result<ExitCode> {
    let (valid, answer) = verdict(token, file, now)?;
    println!("{answer}");
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The offline verdict on `token` against the snapshot in `file`, as printed by `verify`.
fn verdict(token: &str, file: &Path, now: Option<i64>) -> anyhow::Result<(bool, serde_json::Value)> {
    let snapshot = load(file)?.with_context(|| format!("no {}: run `sscard terminal sync` first", file.display()))?;
    let verifier = OfflineVerifier::from_snapshot(&snapshot).context("the snapshot's keys do not load")?;
    let now = now.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    });
    Ok(match verifier.verify(token, now) {
        Ok(v) => (
            true,
            serde_json::json!({
                "valid": true,
                "ecard_id": hex_ids::encode(&v.claims.ecard_id),
                "key_id": v.claims.key_id,
                "region": v.claims.region,
                "retired": v.claims.flags.retired,
                "minor": v.claims.flags.minor,
                "temporary": v.claims.flags.temporary,
                "expires_at": v.expires_at,
                "revocations_seq": snapshot.revocations_seq,
            }),
        ),
        Err(rej) => (
            false,
            serde_json::json!({ "valid": false, "reason": rej.code(), "detail": rej.to_string(),
                "revocations_seq": snapshot.revocations_seq }),
        ),
    })
}

#[cfg(test)]
// A test reads as one story from setup to the last check; the length rule is for production code.
#[allow(clippy::too_many_lines)]
mod tests {
    use super::*;
    use serde_json::json;
    use sscard_app::cards::{self, ActionInput};
    use sscard_domain::access::Role;
    use sscard_domain::card::CardAction;
    use sscard_store::Store;
    use std::sync::Arc;

    /// Against a real server: the first sync takes the full list, later ones only changes; a
    /// suspended card's token is refused offline after the sync and accepted again after unsuspend.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sync_and_verify_against_a_server() {
        let db = sscard_store_sql::sqlite::TempDatabase::new();
        let store: Arc<dyn Store> =
            Arc::new(sscard_store_sql::sqlite::open(&db.url(), sscard_store_sql::DataKeys::ephemeral()).await.unwrap());
        let card_no = crate::cmd::bench::setup(store.as_ref(), 1).await.unwrap().remove(0);
        let mut ctx = crate::cmd::cli_ctx();
        ctx.hash_iterations = 1000;
        let person_id = store.read().await.unwrap().get_card(&card_no, false).await.unwrap().unwrap().person_id;
        sscard_app::admin::add_user(store.as_ref(), &ctx, "h", "pw-123456", Role::Holder, Some(person_id), None)
            .await
            .unwrap();
        let clock: Arc<dyn sscard_domain::clock::Clock> = Arc::new(sscard_server::clock::SystemClock);
        let mut state = sscard_server::AppState::new(store.clone(), clock, Default::default());
        state.hash_iterations = 1000;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move { axum::serve(listener, sscard_server::build_router(state)).await });
        let client = reqwest::Client::new();
        let login: serde_json::Value = client
            .post(format!("{server}/api/v1/auth/login"))
            .json(&json!({ "username": "h", "password": "pw-123456" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = login["token"].as_str().unwrap().to_string();
        let qr: serde_json::Value = client
            .post(format!("{server}/api/v1/ecard/qr"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = qr["token"].as_str().unwrap().to_string();
        let file = std::env::temp_dir().join(format!("sscard-terminal-{}.json", sscard_gm::rand::random_token()));

        assert!(verdict(&token, &file, None).is_err(), "no snapshot yet");
        sync(&server, &file).await.unwrap();
        let first = load(&file).unwrap().unwrap();
        assert_eq!(first.keys.len(), 1);
        assert!(first.revoked.is_empty());
        assert!(first.revocations_seq > 0);
        assert!(verdict(&token, &file, None).unwrap().0);

        let act = |action| {
            let (store, ctx, card_no) = (store.clone(), ctx.clone(), card_no.clone());
            async move {
                let no = sscard_app::fields::card_no(&card_no, "card_no").unwrap();
                cards::act(store.as_ref(), &ctx, &no, action, ActionInput::default()).await.unwrap();
            }
        };
        act(CardAction::Suspend).await;
        assert!(verdict(&token, &file, None).unwrap().0, "offline until the next sync");
        sync(&server, &file).await.unwrap();
        let (valid, answer) = verdict(&token, &file, None).unwrap();
        assert!(!valid);
        assert_eq!(answer["reason"], "revoked");
        let second = load(&file).unwrap().unwrap();
        assert_eq!(second.revoked.len(), 1);
        assert!(second.revocations_seq > first.revocations_seq);

        act(CardAction::Unsuspend).await;
        sync(&server, &file).await.unwrap();
        assert!(verdict(&token, &file, None).unwrap().0);
        assert!(load(&file).unwrap().unwrap().revoked.is_empty());
        // Tampered tokens and expired ones are refused offline too.
        let mut bad = token.clone().into_bytes();
        bad[40] = if bad[40] == b'A' { b'B' } else { b'A' };
        assert!(!verdict(&String::from_utf8(bad).unwrap(), &file, None).unwrap().0);
        let expired = qr["expires_at"].as_i64().unwrap() + 31;
        assert_eq!(verdict(&token, &file, Some(expired)).unwrap().1["reason"], "expired");
        task.abort();
        std::fs::remove_file(&file).unwrap();
    }
}
