//! What the API answers: the resources, with PANs masked and no PIN hash.

use serde::Serialize;
use sscard_app::applications::ApplicationView;
use sscard_domain::application::{Application, PromiseStatus, TimelineEntry};
use sscard_domain::card::Card;
use sscard_domain::clock::china_date;
use sscard_domain::person::Person;
use sscard_domain::policy::Policy;
use utoipa::ToSchema;

pub(crate) fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonJson {
    pub id: String,
    /// Social security number (社会保障号码).
    pub ssn: String,
    pub doc_type: String,
    /// The document number, masked (3501**********123X).
    pub doc_number: String,
    pub name: String,
    /// male | female
    pub sex: String,
    /// YYYY-MM-DD
    pub birth_date: String,
    pub region: String,
    pub minor: bool,
    pub retired: bool,
    pub guardian_id: Option<String>,
}

impl PersonJson {
    /// The person as the caller may see them: the SSN masked unless the rule shows it in full.
    pub fn seen(s: &sscard_app::persons::SeenPerson, now_ms: i64, policy: &Policy) -> Self {
        let mut json = Self::new(&s.person, now_ms, policy);
        if s.disclosure == sscard_domain::disclosure::Disclosure::Masked {
            json.ssn = s.person.ssn.masked();
        }
        json
    }
    pub fn new(p: &Person, now_ms: i64, policy: &Policy) -> Self {
        let today = china_date(now_ms);
        PersonJson {
            id: p.id.clone(),
            ssn: p.ssn.as_str().to_string(),
            doc_type: p.doc_type.as_str().to_string(),
            doc_number: sscard_domain::document::mask_id(&p.doc_number),
            name: p.name.as_str().to_string(),
            sex: p.sex.as_str().to_string(),
            birth_date: p.birth_date.to_string(),
            region: p.region.to_string(),
            minor: p.is_minor(today),
            retired: p.is_retired(today, policy),
            guardian_id: p.guardian.as_ref().map(|g| g.guardian_id.clone()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardJson {
    /// 9 characters: one letter and 8 digits.
    pub card_no: String,
    pub person_id: String,
    pub status: String,
    pub generation: u8,
    pub temporary: bool,
    pub bank_code: String,
    /// Bank account number, masked (first 6 and last 4 digits).
    pub pan: Option<String>,
    pub card_id_code: Option<String>,
    pub region: String,
    pub issued_on: Option<String>,
    pub expires_on: String,
    pub cancel_reason: Option<String>,
    pub destroyed: bool,
}

impl From<&Card> for CardJson {
    fn from(c: &Card) -> Self {
        CardJson {
            card_no: c.card_no.to_string(),
            person_id: c.person_id.clone(),
            status: c.status.as_str().to_string(),
            generation: c.generation,
            temporary: c.temporary,
            bank_code: c.bank_code.to_string(),
            pan: c.pan.as_ref().map(|p| p.masked()),
            card_id_code: c.card_id_code.as_ref().map(|c| c.as_str().to_string()),
            region: c.region.to_string(),
            issued_on: c.issued_on.map(|d| d.to_string()),
            expires_on: c.expires_on.to_string(),
            cancel_reason: c.cancel_reason.map(|r| r.as_str().to_string()),
            destroyed: c.destroyed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepJson {
    pub status: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub at_ms: i64,
    pub actor: String,
}

impl From<&TimelineEntry> for StepJson {
    fn from(e: &TimelineEntry) -> Self {
        StepJson { status: e.status.as_str().to_string(), at: iso(e.at_ms), at_ms: e.at_ms, actor: e.actor.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromiseJson {
    pub working_days: u32,
    pub working_days_used: u32,
    /// true: shipped in time; false: late; null: still within the promise.
    pub met: Option<bool>,
}

impl From<&PromiseStatus> for PromiseJson {
    fn from(p: &PromiseStatus) -> Self {
        PromiseJson { working_days: p.working_days, working_days_used: p.working_days_used, met: p.met }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationJson {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub fee_fen: i64,
    pub bank_code: String,
    pub branch_code: Option<String>,
    pub mail_address: Option<String>,
    pub reason: Option<String>,
    pub card_no: Option<String>,
    pub replaces_card_no: Option<String>,
    pub submitted_at: String,
    pub timeline: Vec<StepJson>,
    pub card: Option<CardJson>,
    /// Online applications: the 15-working-day promise.
    pub promise: Option<PromiseJson>,
    /// free | paid | waived | unpaid (absent in list summaries). A card is handed over only
    /// when the fee is not unpaid.
    pub fee_state: Option<String>,
    /// The card office's reason for waiving the fee, if it did.
    pub fee_waiver_reason: Option<String>,
    /// Why the application was rejected, if it was.
    pub rejection_reason: Option<String>,
}

impl ApplicationJson {
    pub fn summary(a: &Application) -> Self {
        ApplicationJson {
            id: a.id.clone(),
            person_id: a.person_id.clone(),
            kind: a.kind.as_str().to_string(),
            channel: a.channel.as_str().to_string(),
            status: a.status.as_str().to_string(),
            fee_fen: a.fee_fen.value(),
            bank_code: a.bank_code.to_string(),
            branch_code: a.branch_code.as_ref().map(|b| b.to_string()),
            mail_address: a.mail_address.clone(),
            reason: a.reason.map(|r| r.as_str().to_string()),
            card_no: a.card_no.clone(),
            replaces_card_no: a.replaces_card_no.clone(),
            submitted_at: iso(a.submitted_at_ms),
            timeline: Vec::new(),
            card: None,
            promise: None,
            fee_state: None,
            fee_waiver_reason: None,
            rejection_reason: None,
        }
    }
}

impl From<&ApplicationView> for ApplicationJson {
    fn from(v: &ApplicationView) -> Self {
        let mut json = ApplicationJson::summary(&v.application);
        json.timeline = v.timeline.iter().map(StepJson::from).collect();
        json.card = v.card.as_ref().map(CardJson::from);
        json.promise = v.promise.as_ref().map(PromiseJson::from);
        json.fee_state = Some(v.fee_state.clone());
        let reason = |kind: &str| v.reasons.iter().find(|r| r.kind == kind).map(|r| r.reason.clone());
        json.fee_waiver_reason = reason("fee_waiver");
        json.rejection_reason = reason("rejection");
        json
    }
}
