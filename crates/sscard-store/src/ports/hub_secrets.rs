//! The hub's sealed copies of its deployments' secrets (migration 0020, docs/NATION.md): the
//! hub presents a deployment's own secret when it forwards a cross-province request to it.

use crate::Result;
use async_trait::async_trait;

/// What the hub keeps to call its deployments. The store seals the secret at rest (bound to
/// the deployment's code) and opens it on read.
#[async_trait]
pub trait HubSecrets: Send {
    /// Keeps (or replaces) the secret of a registered deployment.
    async fn put_deployment_secret(&mut self, code: &str, secret: &str, now_ms: i64) -> Result<()>;
    /// The secret of a deployment, None when the hub kept none.
    async fn deployment_secret(&mut self, code: &str) -> Result<Option<String>>;
}
