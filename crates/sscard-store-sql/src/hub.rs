//! The SQL of the national hub (the [`ports::Hub`] port, migration 0017). Same text on SQLite
//! and PostgreSQL but for the row lock and the outbox visibility of [`super::Dialect`].
//!
//! A claim and an event about one person are serialised on the person's `national_index`
//! row: [`ports::Hub::lock_index_entry`] first inserts the row if it is missing (a second
//! inserter waits on the primary key until the first commits), then reads it `FOR UPDATE`
//! on PostgreSQL; SQLite's write transaction already excludes every other writer.

use super::rows::{int, opt_int, text};
use super::tx::SqlTx;
use crate::Db;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sscard_domain::nation::hub::{DeploymentInfo, IndexEntry, parse_deployment};
use sscard_store::ports::{self, DeploymentRow, HubCommandRow, HubKeyRow, HubRevocationRow, MAX_HUB_ROWS, RemoteStop};
use sscard_store::{Result, StoreError};

const STOP_COLS: &str =
    "id, person_index, holder, requester, person_id, application_id, status, created_at_ms, done_at_ms";
const KEY_COLS: &str = "key_id, deployment, region, public_key_pem, not_before, not_after";

fn limit_of(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_HUB_ROWS))
}

fn deployment(row: &AnyRow) -> Result<DeploymentRow> {
    let code = text(row, "code")?;
    let info: DeploymentInfo = parse_deployment(&code, &text(row, "name")?, &text(row, "regions")?, &text(row, "url")?)
        .map_err(|e| StoreError::corrupt(format!("deployment {code}: {}", e.message)))?;
    let ordinal = u32::try_from(int(row, "ordinal")?)
        .map_err(|_| StoreError::corrupt(format!("deployment {code}: ordinal out of range")))?;
    Ok(DeploymentRow { info, ordinal, created_at_ms: int(row, "created_at_ms")? })
}

fn entry(person_index: &str, holdings: &str) -> Result<IndexEntry> {
    let holdings = serde_json::from_str(holdings)
        .map_err(|e| StoreError::corrupt(format!("national_index {person_index}: {e}")))?;
    Ok(IndexEntry { person_index: person_index.to_string(), holdings })
}

fn stop(row: &AnyRow) -> Result<RemoteStop> {
    Ok(RemoteStop {
        id: text(row, "id")?,
        person_index: text(row, "person_index")?,
        holder: text(row, "holder")?,
        requester: text(row, "requester")?,
        person_id: text(row, "person_id")?,
        application_id: text(row, "application_id")?,
        status: text(row, "status")?,
        created_at_ms: int(row, "created_at_ms")?,
        done_at_ms: opt_int(row, "done_at_ms")?,
    })
}

fn key(row: &AnyRow) -> Result<HubKeyRow> {
    Ok(HubKeyRow {
        key_id: int(row, "key_id")?,
        deployment: text(row, "deployment")?,
        region: text(row, "region")?,
        public_key_pem: text(row, "public_key_pem")?,
        not_before: int(row, "not_before")?,
        not_after: int(row, "not_after")?,
    })
}

impl SqlTx {
    async fn deployments_where(&mut self, cond: &str, arg: &str) -> Result<Vec<DeploymentRow>> {
        let sql = format!(
            "SELECT code, name, regions, url, ordinal, created_at_ms FROM deployments WHERE {cond} ORDER BY code LIMIT {MAX_HUB_ROWS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(arg).fetch_all(self.conn()).await.db()?;
        rows.iter().map(deployment).collect()
    }
}

#[async_trait]
impl ports::Hub for SqlTx {
    async fn insert_deployment(&mut self, d: &DeploymentInfo, secret_hash: &str, now_ms: i64) -> Result<u32> {
        // Two registrations at once must not take the same ordinal (and key id range): on
        // PostgreSQL they queue on this lock (it conflicts with itself, not with readers);
        // SQLite's write transaction already excludes every other writer.
        if self.dialect() == crate::Dialect::Postgres {
            sqlx::query("LOCK TABLE deployments IN SHARE ROW EXCLUSIVE MODE").execute(self.conn()).await.db()?;
        }
        let row = sqlx::query(
            "INSERT INTO deployments (code, name, regions, url, secret_hash, created_at_ms, ordinal) \
             SELECT $1, $2, $3, $4, $5, $6, COALESCE(MAX(ordinal), 0) + 1 FROM deployments RETURNING ordinal",
        )
        .bind(d.code.as_str())
        .bind(d.name.as_str())
        .bind(d.regions.join(","))
        .bind(d.url.as_str())
        .bind(secret_hash)
        .bind(now_ms)
        .fetch_one(self.conn())
        .await
        .db()?;
        u32::try_from(int(&row, "ordinal")?).map_err(|_| StoreError::corrupt("deployment ordinal out of range"))
    }

    async fn deployment_by_secret(&mut self, secret_hash: &str) -> Result<Option<DeploymentRow>> {
        Ok(self.deployments_where("secret_hash = $1", secret_hash).await?.pop())
    }

    async fn get_deployment(&mut self, code: &str) -> Result<Option<DeploymentRow>> {
        Ok(self.deployments_where("code = $1", code).await?.pop())
    }

    async fn list_deployments(&mut self) -> Result<Vec<DeploymentRow>> {
        self.deployments_where("$1 = $1", "").await
    }

    async fn lock_index_entry(&mut self, person_index: &str, now_ms: i64) -> Result<IndexEntry> {
        sqlx::query(
            "INSERT INTO national_index (person_index, holder, holdings, updated_at_ms) VALUES ($1, NULL, '{}', $2) \
             ON CONFLICT (person_index) DO NOTHING",
        )
        .bind(person_index)
        .bind(now_ms)
        .execute(self.conn())
        .await
        .db()?;
        let sql = format!("SELECT holdings FROM national_index WHERE person_index = $1{}", self.dialect().for_update());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(person_index).fetch_one(self.conn()).await.db()?;
        entry(person_index, &text(&row, "holdings")?)
    }

    async fn put_index_entry(&mut self, e: &IndexEntry, now_ms: i64) -> Result<()> {
        let holdings = serde_json::to_string(&e.holdings)
            .map_err(|err| StoreError::Backend(format!("the index entry cannot be serialised: {err}")))?;
        sqlx::query("UPDATE national_index SET holder = $2, holdings = $3, updated_at_ms = $4 WHERE person_index = $1")
            .bind(e.person_index.as_str())
            .bind(e.holder().map(|d| d.as_str().to_string()))
            .bind(holdings)
            .bind(now_ms)
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn get_index_entry(&mut self, person_index: &str) -> Result<Option<IndexEntry>> {
        let row = sqlx::query("SELECT holdings FROM national_index WHERE person_index = $1")
            .bind(person_index)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.map(|r| entry(person_index, &text(&r, "holdings")?)).transpose()
    }

    async fn insert_remote_stop(&mut self, s: &RemoteStop) -> Result<()> {
        let sql = format!("INSERT INTO remote_stops ({STOP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(s.id.as_str())
            .bind(s.person_index.as_str())
            .bind(s.holder.as_str())
            .bind(s.requester.as_str())
            .bind(s.person_id.as_str())
            .bind(s.application_id.as_str())
            .bind(s.status.as_str())
            .bind(s.created_at_ms)
            .bind(s.done_at_ms)
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn get_remote_stop(&mut self, id: &str) -> Result<Option<RemoteStop>> {
        let sql = format!("SELECT {STOP_COLS} FROM remote_stops WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(stop).transpose()
    }

    async fn waiting_stops(&mut self, person_index: &str) -> Result<Vec<RemoteStop>> {
        let sql = format!(
            "SELECT {STOP_COLS} FROM remote_stops WHERE person_index = $1 AND status = 'waiting' \
             ORDER BY created_at_ms, id LIMIT 100"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(person_index).fetch_all(self.conn()).await.db()?;
        rows.iter().map(stop).collect()
    }

    async fn finish_remote_stop(&mut self, id: &str, now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE remote_stops SET status = 'done', done_at_ms = $2 WHERE id = $1 AND status = 'waiting'")
            .bind(id)
            .bind(now_ms)
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn retarget_remote_stop(&mut self, id: &str, holder: &str) -> Result<()> {
        sqlx::query("UPDATE remote_stops SET holder = $2 WHERE id = $1 AND status = 'waiting'")
            .bind(id)
            .bind(holder)
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn count_waiting_stops(&mut self) -> Result<i64> {
        // The partial index remote_stops_waiting holds exactly these rows.
        let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM remote_stops WHERE status = 'waiting'")
            .fetch_one(self.conn())
            .await
            .db()?;
        int(&row, "n")
    }

    async fn append_command(&mut self, id: &str, deployment: &str, body: &str, at_ms: i64) -> Result<i64> {
        let row =
            sqlx::query("INSERT INTO hub_commands (id, deployment, body, at_ms) VALUES ($1, $2, $3, $4) RETURNING seq")
                .bind(id)
                .bind(deployment)
                .bind(body)
                .bind(at_ms)
                .fetch_one(self.conn())
                .await
                .db()?;
        int(&row, "seq")
    }

    async fn commands_after(&mut self, seq: i64, limit: u32) -> Result<Vec<HubCommandRow>> {
        let visible = self.dialect().events_visible();
        let sql = format!(
            "SELECT seq, id, deployment, body, at_ms FROM hub_commands WHERE seq > $1{visible} ORDER BY seq LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(seq).bind(limit_of(limit)).fetch_all(self.conn()).await.db()?;
        rows.iter()
            .map(|r| {
                Ok(HubCommandRow {
                    seq: int(r, "seq")?,
                    id: text(r, "id")?,
                    deployment: text(r, "deployment")?,
                    body: text(r, "body")?,
                    at_ms: int(r, "at_ms")?,
                })
            })
            .collect()
    }

    async fn max_command_seq(&mut self) -> Result<i64> {
        let visible = self.dialect().events_visible();
        let sql = format!("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS seq FROM hub_commands WHERE 1 = 1{visible}");
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(self.conn()).await.db()?;
        int(&row, "seq")
    }

    async fn get_hub_key(&mut self, key_id: i64) -> Result<Option<HubKeyRow>> {
        let sql = format!("SELECT {KEY_COLS} FROM hub_keys WHERE key_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(key_id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(key).transpose()
    }

    async fn put_hub_key(&mut self, k: &HubKeyRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO hub_keys ({KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_id) DO UPDATE SET \
             region = excluded.region, public_key_pem = excluded.public_key_pem, not_before = excluded.not_before, \
             not_after = excluded.not_after WHERE hub_keys.deployment = excluded.deployment"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(k.key_id)
            .bind(k.deployment.as_str())
            .bind(k.region.as_str())
            .bind(k.public_key_pem.as_str())
            .bind(k.not_before)
            .bind(k.not_after)
            .execute(self.conn())
            .await
            .db()?;
        Ok(())
    }

    async fn hub_keys(&mut self) -> Result<Vec<HubKeyRow>> {
        let sql = format!("SELECT {KEY_COLS} FROM hub_keys ORDER BY key_id LIMIT {MAX_HUB_ROWS}");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(self.conn()).await.db()?;
        rows.iter().map(key).collect()
    }

    async fn append_revocation(&mut self, deployment: &str, ecard_id: &str, usable: bool, at_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO hub_revocations (deployment, ecard_id, usable, at_ms) VALUES ($1, $2, $3, $4) RETURNING seq",
        )
        .bind(deployment)
        .bind(ecard_id)
        .bind(i64::from(usable))
        .bind(at_ms)
        .fetch_one(self.conn())
        .await
        .db()?;
        int(&row, "seq")
    }

    async fn revoked_ecards(&mut self, after: Option<&str>, limit: u32) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT r.ecard_id FROM hub_revocations r WHERE r.usable = 0 \
             AND r.seq = (SELECT MAX(l.seq) FROM hub_revocations l WHERE l.ecard_id = r.ecard_id) \
             AND r.ecard_id > $1 ORDER BY r.ecard_id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit_of(limit))
        .fetch_all(self.conn())
        .await
        .db()?;
        rows.iter().map(|r| text(r, "ecard_id")).collect()
    }

    async fn revocations_after(&mut self, seq: i64, limit: u32) -> Result<Vec<HubRevocationRow>> {
        let visible = self.dialect().events_visible();
        let sql = format!(
            "SELECT seq, deployment, ecard_id, usable, at_ms FROM hub_revocations WHERE seq > $1{visible} \
             ORDER BY seq LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(seq).bind(limit_of(limit)).fetch_all(self.conn()).await.db()?;
        rows.iter()
            .map(|r| {
                Ok(HubRevocationRow {
                    seq: int(r, "seq")?,
                    deployment: text(r, "deployment")?,
                    ecard_id: text(r, "ecard_id")?,
                    usable: int(r, "usable")? != 0,
                    at_ms: int(r, "at_ms")?,
                })
            })
            .collect()
    }

    async fn max_revocation_seq(&mut self) -> Result<i64> {
        let visible = self.dialect().events_visible();
        let sql =
            format!("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS seq FROM hub_revocations WHERE 1 = 1{visible}");
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(self.conn()).await.db()?;
        int(&row, "seq")
    }
}
