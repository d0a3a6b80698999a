//! The SQL of [`ports::HubSecrets`] (migration 0020): a deployment's secret sealed under the
//! hub's data key, its associated data naming the column and the deployment's code, so a
//! sealed value copied to another deployment's row does not open.

use super::rows::text;
use super::tx::SqlTx;
use crate::Db;
use async_trait::async_trait;
use sscard_store::Result;
use sscard_store::ports;

const COLUMN: &str = "hub_deployment_secrets.sealed_secret";

#[async_trait]
impl ports::HubSecrets for SqlTx {
    async fn put_deployment_secret(&mut self, code: &str, secret: &str, now_ms: i64) -> Result<()> {
        let sealed = self.vault().seal(COLUMN, &[code], secret);
        sqlx::query(
            "INSERT INTO hub_deployment_secrets (code, sealed_secret, updated_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET sealed_secret = excluded.sealed_secret, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(code)
        .bind(sealed)
        .bind(now_ms)
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn deployment_secret(&mut self, code: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT sealed_secret FROM hub_deployment_secrets WHERE code = $1")
            .bind(code)
            .fetch_optional(self.conn())
            .await
            .db()?;
        match row {
            Some(r) => Ok(Some(self.vault().open(COLUMN, &[code], &text(&r, "sealed_secret")?)?)),
            None => Ok(None),
        }
    }
}
