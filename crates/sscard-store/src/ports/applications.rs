//! The port for applications.

use crate::Result;
use crate::model::AppFilter;
use async_trait::async_trait;
use sscard_domain::application::Application;
use sscard_domain::application::TimelineEntry;

/// What a member of staff said about an application, kept with who and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppReason {
    pub application_id: String,
    /// `fee_waiver` or `rejection`: one of each per application at most.
    pub kind: String,
    pub reason: String,
    pub actor: String,
    pub at_ms: i64,
}

/// Card applications and their timelines.
#[async_trait]
pub trait Applications: Send {
    async fn insert_application(&mut self, app: &Application, region: &str) -> Result<()>;
    async fn get_application(&mut self, id: &str, lock: bool) -> Result<Option<Application>>;
    async fn update_application(&mut self, app: &Application) -> Result<()>;
    async fn applications_of_person(&mut self, person_id: &str) -> Result<Vec<Application>>;
    async fn list_applications(&mut self, filter: &AppFilter) -> Result<Vec<Application>>;
    async fn append_step(&mut self, application_id: &str, entry: &TimelineEntry) -> Result<()>;
    async fn timeline(&mut self, application_id: &str) -> Result<Vec<TimelineEntry>>;
    /// Records a reason; a second one of the same kind for the application is a conflict.
    async fn insert_app_reason(&mut self, reason: &AppReason) -> Result<()>;
    /// The reasons recorded for an application (at most one per kind).
    async fn app_reasons(&mut self, application_id: &str) -> Result<Vec<AppReason>>;
}
