//! The port for banks and branches.

use crate::Result;
use crate::model::{Bank, Branch};
use async_trait::async_trait;

/// Partner banks and their branches.
#[async_trait]
pub trait Banks: Send {
    async fn insert_bank(&mut self, bank: &Bank) -> Result<()>;
    async fn get_bank(&mut self, code: &str) -> Result<Option<Bank>>;
    async fn list_banks(&mut self) -> Result<Vec<Bank>>;
    async fn insert_branch(&mut self, branch: &Branch) -> Result<()>;
    async fn get_branch(&mut self, bank_code: &str, code: &str) -> Result<Option<Branch>>;
    async fn list_branches(&mut self, bank_code: Option<&str>) -> Result<Vec<Branch>>;
}
