//! The configurable numbers of the card business, with their defaults.

use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// Every tunable rule parameter in one place; a deployment overrides them in its config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Policy {
    /// Fee for a replacement card (补卡/换卡), in fen.
    pub replacement_fee_fen: i64,
    /// A temporary loss (临时挂失) lifts by itself after this many days.
    pub suspension_auto_lift_days: u32,
    /// Produced cards of batch channels not collected after this many months turn dormant.
    pub dormant_after_months: u32,
    /// Dormant cards are cancelled and destroyed this many months after turning dormant.
    pub dormant_destroy_after_months: u32,
    /// A temporary card is valid this many days from issue.
    pub temporary_card_valid_days: u32,
    /// Statutory retirement ages, used when no pension has been recorded.
    pub retirement_age_male: u32,
    pub retirement_age_female: u32,
    /// Working days promised for an online (mailed) application.
    pub online_promise_working_days: u32,
    /// Years a card is valid from issue.
    pub card_valid_years: u32,
    /// Months a benefit eligibility certification (待遇资格认证) holds.
    pub certification_valid_months: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            replacement_fee_fen: 2000,
            suspension_auto_lift_days: 15,
            dormant_after_months: 6,
            dormant_destroy_after_months: 6,
            temporary_card_valid_days: 60,
            retirement_age_male: 60,
            retirement_age_female: 55,
            online_promise_working_days: 15,
            card_valid_years: 10,
            certification_valid_months: 12,
        }
    }
}

impl Policy {
    pub fn replacement_fee(&self) -> Fen {
        Fen::new(self.replacement_fee_fen)
    }
}
