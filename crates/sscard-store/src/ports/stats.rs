//! The port for counts for the dashboard.

use crate::Result;
use crate::model::Overview;
use crate::onecard::UsageCount;
use async_trait::async_trait;

/// Counts for the dashboard and the reports.
#[async_trait]
pub trait Stats: Send {
    async fn overview(&mut self) -> Result<Overview>;
    /// Applications submitted since `since_ms`, counted per period of `period_ms` and channel:
    /// `(period index from since_ms, channel, count)`.
    async fn applications_over_time(&mut self, since_ms: i64, period_ms: i64) -> Result<Vec<(i64, String, i64)>>;
    /// E-cards usable now and cards active now (the e-card issuance rate).
    async fn ecard_rate(&mut self) -> Result<(i64, i64)>;
    async fn usage_counts(&mut self) -> Result<Vec<UsageCount>>;
}
