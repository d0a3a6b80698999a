//! The port for applications.

use crate::Result;
use crate::model::AppFilter;
use async_trait::async_trait;
use sscard_domain::application::Application;
use sscard_domain::application::TimelineEntry;

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
}
