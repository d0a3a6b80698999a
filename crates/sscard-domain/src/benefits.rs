//! Benefits paid to the card's bank account (待遇发放): payers, programs, batches with an
//! envelope of control totals, the outcome of each line, where the money goes, the annual
//! eligibility certification, and who may do what. Pure rules: the use cases in
//! `sscard_app::benefits` load the facts, call these and write what they decide.

use crate::access::{Actor, Role};
use crate::application::string_enum;
use crate::card::{CancelReason, Card, CardStatus};
use crate::clock::{add_months, china_date, start_of_day_ms};
use crate::document::Ssn;
use crate::error::DomainError;
use crate::ids::{BankCode, CardNo, Pan};
use crate::money::Fen;
use crate::person::{Person, PersonName};
use crate::terminal::{Operator, OperatorKind, Scenario, Terminal};
use serde::{Deserialize, Serialize};

/// Most lines in one batch.
pub const MAX_BATCH_LINES: u64 = 2_000_000;
/// Most lines in a JSON batch (larger batches come as CSV).
pub const MAX_JSON_LINES: usize = 10_000;
/// Lines read and staged in one transaction: memory stays bounded whatever the batch.
pub const CHUNK_LINES: usize = 1_000;
/// Lines paid in one transaction: memory and lock time stay bounded whatever the batch, and
/// the statements and the commit of a chunk are spread over this many lines.
pub const PAY_CHUNK_LINES: usize = 5_000;
/// Longest payer, program or batch id.
pub const MAX_CODE: usize = 32;
/// Longest batch id and line id.
pub const MAX_ID: usize = 64;
/// Longest payer or program name, in characters.
pub const MAX_ORG_NAME: usize = 100;
/// The CSV header of a batch.
pub const CSV_HEADER: [&str; 4] = ["line_id", "ssn", "name", "amount_fen"];

string_enum!(
    /// What a program pays.
    ProgramKind {
        Pension => "pension", Unemployment => "unemployment", Injury => "injury", Subsidy => "subsidy",
        TaxRefund => "tax_refund", Housing => "housing",
    }
);

string_enum!(
    /// What became of one line: paid, or refused with its reason.
    LineOutcome {
        Paid => "paid", UnknownPerson => "unknown_person", NameMismatch => "name_mismatch",
        NoFinancialAccount => "no_financial_account", Deceased => "deceased", Duplicate => "duplicate",
        CertificationOverdue => "certification_overdue",
    }
);

string_enum!(
    /// Where a batch stands: its lines arriving, being paid, or all decided.
    BatchStatus { Receiving => "receiving", Processing => "processing", Done => "done" }
);

/// A payer or program code: 1..=32 of A-Z, 0-9, `_` and `-` (uppercased).
pub fn parse_code(raw: &str, field: &'static str) -> Result<String, DomainError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty()
        || code.len() > MAX_CODE
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(DomainError::invalid(
            "bad_code",
            field,
            format!("{field}: 1 to {MAX_CODE} letters, digits, _ or -"),
        ));
    }
    Ok(code)
}

/// A payer's or program's name: 1..=100 characters, no control characters.
pub fn parse_org_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_ORG_NAME || name.chars().any(char::is_control) {
        return Err(DomainError::invalid("bad_name", "name", format!("a name has 1 to {MAX_ORG_NAME} characters")));
    }
    Ok(name.to_string())
}

/// A batch or line id chosen by the payer: 1..=64 printable ASCII characters.
pub fn parse_id(raw: &str, field: &'static str) -> Result<String, DomainError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "bad_id",
            field,
            format!("{field}: 1 to {MAX_ID} printable ASCII characters"),
        ));
    }
    Ok(id.to_string())
}

/// The month a payment is for (`YYYY-MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    month: u8,
}

impl Period {
    pub fn parse(raw: &str) -> Result<Period, DomainError> {
        let bad = || DomainError::invalid("bad_period", "period", "period is YYYY-MM (2000-01 to 2099-12)");
        let (y, m) = raw.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u16 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(2000..=2099).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A batch's envelope: the payer's id for it, what it pays and the totals its lines must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payer: String,
    pub batch_id: String,
    pub program: String,
    pub period: Period,
    pub declared_lines: u64,
    pub declared_total: Fen,
}

impl Envelope {
    /// The envelope from a request's fields, each refused naming its field.
    pub fn parse(
        payer: &str,
        batch_id: &str,
        program: &str,
        period: &str,
        declared_lines: u64,
        declared_total_fen: i64,
    ) -> Result<Envelope, DomainError> {
        if declared_lines == 0 || declared_lines > MAX_BATCH_LINES {
            return Err(DomainError::invalid(
                "bad_declared_lines",
                "declared_lines",
                format!("a batch has 1 to {MAX_BATCH_LINES} lines"),
            ));
        }
        if declared_total_fen <= 0 {
            return Err(DomainError::invalid("bad_declared_total", "declared_total_fen", "the total must be positive"));
        }
        Ok(Envelope {
            payer: parse_code(payer, "payer")?,
            batch_id: parse_id(batch_id, "batch_id")?,
            program: parse_code(program, "program")?,
            period: Period::parse(period)?,
            declared_lines,
            declared_total: Fen::new(declared_total_fen),
        })
    }
}

/// One line of a batch as sent (text fields, as a CSV row or a JSON object carries them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLine {
    pub line_id: String,
    pub ssn: String,
    pub name: String,
    pub amount_fen: String,
    /// The line of the file where a CSV row starts (the header is line 1), so that a refusal
    /// also names the row a spreadsheet shows: it differs from the line's number in the batch
    /// by the header, skipped empty rows and line breaks inside quoted fields.
    #[serde(skip)]
    pub file_line: Option<u64>,
}

impl RawLine {
    /// A line paying `amount_fen` to a registered person, as a payer's file names them (the
    /// demo city's batches, tests).
    pub fn paying(line_id: &str, person: &Person, amount_fen: i64) -> RawLine {
        RawLine {
            line_id: line_id.into(),
            ssn: person.ssn.to_string(),
            name: person.name.as_str().into(),
            amount_fen: amount_fen.to_string(),
            file_line: None,
        }
    }
}

/// One line, parsed: who is to receive how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLine {
    /// 1-based position in the batch.
    pub seq: u64,
    pub line_id: String,
    pub ssn: Ssn,
    pub name: PersonName,
    pub amount: Fen,
}

/// Where a line is, for a refusal: its number in the batch and, for a CSV row, its file line.
pub fn line_label(seq: u64, file_line: Option<u64>) -> String {
    match file_line {
        Some(f) => format!("line {seq} (file line {f})"),
        None => format!("line {seq}"),
    }
}

/// A malformed line: the batch is refused with it, naming the line number and the field.
fn bad_line(at: &str, field: &'static str, why: impl std::fmt::Display) -> DomainError {
    DomainError::invalid("bad_line", field, format!("{at}: {field}: {why}"))
}

impl BatchLine {
    /// Line `seq` (1-based, the header not counted) parsed, or refused naming line and field.
    pub fn parse(seq: u64, raw: &RawLine) -> Result<BatchLine, DomainError> {
        // The label is made only for a refusal: this runs for every line of a million.
        let at = || line_label(seq, raw.file_line);
        let line_id = parse_id(&raw.line_id, "line_id").map_err(|e| bad_line(&at(), "line_id", e.message))?;
        let ssn = Ssn::parse(&raw.ssn).map_err(|e| bad_line(&at(), "ssn", e))?;
        // The name rule's own message names the field already ("name: character 2 …").
        let name = PersonName::parse(&raw.name)
            .map_err(|e| bad_line(&at(), "name", e.message.strip_prefix("name: ").unwrap_or(&e.message)))?;
        let fen: i64 =
            raw.amount_fen.trim().parse().map_err(|_| bad_line(&at(), "amount_fen", "not a whole number"))?;
        let amount = Fen::parse_amount(fen).map_err(|e| bad_line(&at(), "amount_fen", e))?;
        Ok(BatchLine { seq, line_id, ssn, name, amount })
    }
}

/// The lines received so far, counted against the envelope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub lines: u64,
    pub total_fen: i128,
}

impl Tally {
    /// Counts one more line; refuses a batch already over its declared line count (so an
    /// oversized upload stops early) or over the most a batch may hold.
    pub fn add(&mut self, env: &Envelope, line: &BatchLine) -> Result<(), DomainError> {
        self.lines += 1;
        self.total_fen += i128::from(line.amount.value());
        if self.lines > env.declared_lines || self.lines > MAX_BATCH_LINES {
            return Err(self.mismatch(env).unwrap_or_else(|| DomainError::refused("too_many_lines", "too many lines")));
        }
        Ok(())
    }

    /// Which declared total the lines do not match, if any (422, naming the field).
    pub fn mismatch(&self, env: &Envelope) -> Option<DomainError> {
        if self.lines != env.declared_lines {
            let more = if self.lines > env.declared_lines { " or more" } else { "" };
            let message =
                format!("declared_lines is {} but the batch has {}{more} lines", env.declared_lines, self.lines);
            return Some(DomainError::refused("envelope_mismatch", message).with_field("declared_lines"));
        }
        if self.total_fen != i128::from(env.declared_total.value()) {
            let message = format!(
                "declared_total_fen is {} but the lines add up to {}",
                env.declared_total.value(),
                self.total_fen
            );
            return Some(DomainError::refused("envelope_mismatch", message).with_field("declared_total_fen"));
        }
        None
    }
}

/// The facts a line's outcome depends on, loaded by the use case.
#[derive(Debug, Clone, Copy)]
pub struct LineFacts<'a> {
    /// The name on file of the person with the line's SSN, if there is such a person (the
    /// rules need nothing else of the person: the use case need not open the rest).
    pub person_name: Option<&'a PersonName>,
    /// Their cards (any status).
    pub cards: &'a [PayeeCard],
    /// This payer already paid this person for the program and period (this batch included).
    pub already_paid: bool,
    pub needs_certification: bool,
    /// When the person last certified, if ever.
    pub certified_at_ms: Option<i64>,
    pub now_ms: i64,
    pub certification_valid_months: u32,
}

/// What the rules and the payment look at of a person's card: whether its account can be
/// paid (status, temporary, the account), which is newest, and whether it was cancelled for
/// death. The use case need not load (nor open) anything else of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeCard {
    pub card_no: CardNo,
    pub status: CardStatus,
    pub temporary: bool,
    pub bank_code: BankCode,
    /// The card's bank account, if it has one.
    pub pan: Option<Pan>,
    pub produced_at_ms: i64,
    pub cancel_reason: Option<CancelReason>,
}

impl From<&Card> for PayeeCard {
    fn from(c: &Card) -> Self {
        PayeeCard {
            card_no: c.card_no.clone(),
            status: c.status,
            temporary: c.temporary,
            bank_code: c.bank_code.clone(),
            pan: c.pan.clone(),
            produced_at_ms: c.produced_at_ms,
            cancel_reason: c.cancel_reason,
        }
    }
}

/// The card whose bank account a benefit goes to: an active or suspended card first (the
/// card in use); else a lost one (its account stays open until the replacement is activated);
/// else an issued one (handed over, not yet activated). Never a temporary card, never one
/// without an account. Among equals, the newest.
pub fn paying_card(cards: &[PayeeCard]) -> Option<&PayeeCard> {
    let rank = |c: &PayeeCard| match c.status {
        CardStatus::Active | CardStatus::Suspended => 3,
        CardStatus::Lost => 2,
        CardStatus::Issued => 1,
        _ => 0,
    };
    let key = |c: &&PayeeCard| (rank(c), c.produced_at_ms, c.card_no.as_str().to_string());
    cards.iter().filter(|c| !c.temporary && c.pan.is_some() && rank(c) > 0).max_by_key(key)
}

/// Whether the person is recorded as dead: a card cancelled for death.
pub fn is_deceased(cards: &[PayeeCard]) -> bool {
    cards.iter().any(|c| c.status == CardStatus::Cancelled && c.cancel_reason == Some(CancelReason::Death))
}

/// Whether a certification made at `certified_at_ms` still holds at `now_ms`.
pub fn certification_holds(certified_at_ms: Option<i64>, now_ms: i64, valid_months: u32) -> bool {
    certified_at_ms.is_some_and(|at| certified_until_ms(at, valid_months) > now_ms)
}

/// The end of a certification made at `at_ms`: the same day `valid_months` later (China time).
pub fn certified_until_ms(at_ms: i64, valid_months: u32) -> i64 {
    start_of_day_ms(add_months(china_date(at_ms), valid_months))
}

/// The outcome of one line: paid to the card [`paying_card`] picks, or the first reason
/// that refuses it, in this order: unknown_person, name_mismatch, deceased, duplicate,
/// certification_overdue, no_financial_account. `line_name` is the name the payer sent.
pub fn decide_line<'a>(line_name: &PersonName, facts: &LineFacts<'a>) -> Result<&'a PayeeCard, LineOutcome> {
    let Some(name_on_file) = facts.person_name else { return Err(LineOutcome::UnknownPerson) };
    if name_on_file != line_name {
        return Err(LineOutcome::NameMismatch);
    }
    if is_deceased(facts.cards) {
        return Err(LineOutcome::Deceased);
    }
    if facts.already_paid {
        return Err(LineOutcome::Duplicate);
    }
    if facts.needs_certification
        && !certification_holds(facts.certified_at_ms, facts.now_ms, facts.certification_valid_months)
    {
        return Err(LineOutcome::CertificationOverdue);
    }
    paying_card(facts.cards).ok_or(LineOutcome::NoFinancialAccount)
}

/// Whether paying this program marks the person retired (a pension paid).
pub fn marks_retired(kind: ProgramKind) -> bool {
    kind == ProgramKind::Pension
}

/// The stable key of a paid line, also its ISO 20022 EndToEndId (at most 35 characters):
/// the batch's number and the line's position.
pub fn end_to_end_id(batch_no: u64, seq: u64) -> String {
    format!("SSB{batch_no}L{seq}")
}

/// The ledger key of a paid line's transfer (payer → the card's bank-account mirror).
pub fn transfer_key(end_to_end_id: &str) -> String {
    format!("benefit:{end_to_end_id}")
}

fn deny(what: &str) -> DomainError {
    DomainError::forbidden(format!("your role may not {what}"))
}

impl Actor {
    /// The payer a `payer` login works for (held where a teller's bank is).
    pub fn payer_code(&self) -> Option<&str> {
        if self.role == Role::Payer { self.bank_code.as_deref() } else { None }
    }
}

/// The payer a request acts for: payer staff their own (another they name is refused by
/// [`may_submit`] and [`may_view_batch`]), the card office the one it names. A role that acts
/// for no payer is refused here, before it is asked to name one.
pub fn payer_acted_for(actor: &Actor, named: Option<&str>) -> Result<String, DomainError> {
    match (named, actor.payer_code()) {
        (Some(p), _) => Ok(p.trim().to_ascii_uppercase()),
        (None, Some(own)) => Ok(own.to_string()),
        (None, None) if matches!(actor.role, Role::Admin | Role::Clerk) => {
            Err(DomainError::invalid("payer_required", "payer", "name the payer"))
        }
        (None, None) => Err(deny("act for a payer")),
    }
}

/// Add payers and programs: admin.
pub fn may_manage_payers(actor: &Actor) -> Result<(), DomainError> {
    if actor.role == Role::Admin { Ok(()) } else { Err(deny("add payers or programs")) }
}

/// Submit a batch for `payer`: its own staff, or an admin (the CLI).
pub fn may_submit(actor: &Actor, payer: &str) -> Result<(), DomainError> {
    if actor.role == Role::Admin || actor.payer_code() == Some(payer) {
        Ok(())
    } else {
        Err(deny("submit batches for this payer"))
    }
}

/// See a batch of `payer` and its lines: its own staff and the card office.
pub fn may_view_batch(actor: &Actor, payer: &str) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk) || actor.payer_code() == Some(payer) {
        Ok(())
    } else {
        Err(deny("see this batch"))
    }
}

/// Whose batches a list shows: payer staff their own payer's (`Some(code)`), the card office
/// every payer's (`None`); anyone else none.
pub fn batch_list_scope(actor: &Actor) -> Result<Option<String>, DomainError> {
    match (actor.role, actor.payer_code()) {
        (Role::Admin | Role::Clerk, _) => Ok(None),
        (Role::Payer, Some(own)) => Ok(Some(own.to_string())),
        _ => Err(deny("list batches")),
    }
}

/// Certification at a terminal (待遇资格认证 at a self-service machine): only an identity
/// terminal of an `agency` operator (the social security agency's own machines) takes it; a
/// hospital's or a bus company's identity terminal checks who someone is, not whether they
/// may go on being paid.
pub fn may_certify_at(operator: &Operator, terminal: &Terminal) -> Result<(), DomainError> {
    let agency = operator.kind == OperatorKind::Agency && operator.code == terminal.operator_code;
    if agency && terminal.scenario == Scenario::Identity {
        Ok(())
    } else {
        Err(DomainError {
            code: "not_certifying_terminal",
            ..DomainError::forbidden(format!(
                "terminal {} is not an identity terminal of the social security agency",
                terminal.id
            ))
        })
    }
}

/// Certify that `person_id` is alive and eligible: the holder themself ("certify now" in the
/// portal) or the card office (at the counter, after seeing the card).
pub fn may_certify(actor: &Actor, person_id: &str) -> Result<(), DomainError> {
    let own = actor.role == Role::Holder && actor.person_id.as_deref() == Some(person_id);
    if own || matches!(actor.role, Role::Admin | Role::Clerk) { Ok(()) } else { Err(deny("certify this person")) }
}

/// See the benefits a person received: the holder, their guardian and the card office.
pub fn may_view_benefits(actor: &Actor, person: &Person) -> Result<(), DomainError> {
    if matches!(actor.role, Role::Admin | Role::Clerk) || crate::disclosure::is_holder_or_guardian(actor, person) {
        Ok(())
    } else {
        Err(DomainError::forbidden("only the holder, their guardian and the card office see these benefits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocType, Sex};
    use crate::error::ErrorKind;
    use crate::ids::{Bin, RegionCode};

    fn card(status: CardStatus) -> Card {
        let pan = crate::ids::Pan::issue(&Bin::parse("621700").unwrap(), 1);
        Card { pan: Some(pan), ..crate::terminal::tests::card(status) }
    }

    fn env(lines: u64, total: i64) -> Envelope {
        Envelope::parse("pf-xm", "B1", "pension", "2026-11", lines, total).unwrap()
    }
    fn raw(id: &str, ssn: &str, name: &str, amount: &str) -> RawLine {
        RawLine { line_id: id.into(), ssn: ssn.into(), name: name.into(), amount_fen: amount.into(), file_line: None }
    }
    fn person(card: &Card) -> Person {
        Person {
            id: card.person_id.clone(),
            ssn: Ssn::parse("11010519491231002X").unwrap(),
            doc_type: DocType::ResidentId,
            doc_number: "11010519491231002X".into(),
            name: PersonName::parse("张三").unwrap(),
            sex: Sex::Female,
            birth_date: time::macros::date!(1949 - 12 - 31),
            region: RegionCode::parse("350203").unwrap(),
            guardian: None,
            pension_recorded: false,
            created_at_ms: 0,
        }
    }

    #[test]
    fn envelopes_parse_each_field_and_name_the_bad_one() {
        let e = env(2, 300);
        assert_eq!(
            (e.payer.as_str(), e.program.as_str(), e.period.to_string()),
            ("PF-XM", "PENSION", "2026-11".into())
        );
        let field = |r: Result<Envelope, DomainError>| r.unwrap_err().field;
        assert_eq!(field(Envelope::parse("P", "B", "X", "2026-13", 1, 1)), Some("period"));
        assert_eq!(field(Envelope::parse("P", "B", "X", "26-01", 1, 1)), Some("period"));
        assert_eq!(field(Envelope::parse("P", "B", "X", "2026-01", 0, 1)), Some("declared_lines"));
        assert_eq!(field(Envelope::parse("P", "B", "X", "2026-01", MAX_BATCH_LINES + 1, 1)), Some("declared_lines"));
        assert_eq!(field(Envelope::parse("P", "B", "X", "2026-01", 1, 0)), Some("declared_total_fen"));
        assert_eq!(field(Envelope::parse("P Q", "B", "X", "2026-01", 1, 1)), Some("payer"));
        assert_eq!(field(Envelope::parse("P", "", "X", "2026-01", 1, 1)), Some("batch_id"));
        assert_eq!(field(Envelope::parse("P", "B", "", "2026-01", 1, 1)), Some("program"));
    }

    #[test]
    fn lines_must_add_up_to_the_envelope() {
        let c = card(CardStatus::Active);
        let ssn = person(&c).ssn.to_string();
        let line = |n| BatchLine::parse(n, &raw(&format!("L{n}"), &ssn, "张三", "150")).unwrap();
        let e = env(2, 300);
        let mut t = Tally::default();
        t.add(&e, &line(1)).unwrap();
        let short = t.mismatch(&e).unwrap();
        assert_eq!(
            (short.kind, short.code, short.field),
            (ErrorKind::Refused, "envelope_mismatch", Some("declared_lines"))
        );
        t.add(&e, &line(2)).unwrap();
        assert!(t.mismatch(&e).is_none());
        assert_eq!(t.add(&e, &line(3)).unwrap_err().field, Some("declared_lines"));
        let mut t = Tally::default();
        let e = env(2, 301);
        t.add(&e, &line(1)).unwrap();
        t.add(&e, &line(2)).unwrap();
        assert_eq!(t.mismatch(&e).unwrap().field, Some("declared_total_fen"));
    }

    #[test]
    fn a_malformed_line_names_its_number_and_field() {
        let c = card(CardStatus::Active);
        let ssn = person(&c).ssn.to_string();
        let err = |r: RawLine| BatchLine::parse(7, &r).unwrap_err();
        let e = err(raw("L1", "123", "张三", "100"));
        assert_eq!((e.code, e.field), ("bad_line", Some("ssn")));
        assert!(e.message.starts_with("line 7: ssn"), "{}", e.message);
        assert_eq!(err(raw("", &ssn, "张三", "100")).field, Some("line_id"));
        let e = err(raw("L1", &ssn, "张三1", "100"));
        assert_eq!(e.field, Some("name"));
        assert!(e.message.starts_with("line 7: name: character 3 (U+0031)"), "{}", e.message);
        assert_eq!(err(raw("L1", &ssn, "张三", "1.5")).field, Some("amount_fen"));
        assert_eq!(err(raw("L1", &ssn, "张三", "0")).field, Some("amount_fen"));
        assert_eq!(err(raw("L1", &ssn, "张三", "-5")).field, Some("amount_fen"));
        assert!(BatchLine::parse(7, &raw(" L1 ", &ssn, " 张三 ", " 100 ")).is_ok());
        // A CSV row also names the line of the file it starts on.
        let e = BatchLine::parse(7, &RawLine { file_line: Some(9), ..raw("L1", &ssn, "张三", "x") }).unwrap_err();
        assert!(e.message.starts_with("line 7 (file line 9): amount_fen"), "{}", e.message);
    }

    fn payee(cards: Vec<Card>) -> Vec<PayeeCard> {
        cards.iter().map(PayeeCard::from).collect()
    }

    fn facts<'a>(p: Option<&'a Person>, cards: &'a [PayeeCard]) -> LineFacts<'a> {
        LineFacts {
            person_name: p.map(|p| &p.name),
            cards,
            already_paid: false,
            needs_certification: false,
            certified_at_ms: None,
            now_ms: 1_800_000_000_000,
            certification_valid_months: 12,
        }
    }

    #[test]
    fn every_refusal_reason_and_the_payment() {
        let active = card(CardStatus::Active);
        let p = person(&active);
        let line = BatchLine::parse(1, &raw("L1", &p.ssn.to_string(), p.name.as_str(), "100")).unwrap();
        let cards = payee(vec![active.clone()]);
        assert_eq!(decide_line(&line.name, &facts(Some(&p), &cards)).unwrap().card_no, active.card_no);
        assert_eq!(decide_line(&line.name, &facts(None, &cards)).unwrap_err(), LineOutcome::UnknownPerson);
        let other = BatchLine { name: PersonName::parse("李四").unwrap(), ..line.clone() };
        assert_eq!(decide_line(&other.name, &facts(Some(&p), &cards)).unwrap_err(), LineOutcome::NameMismatch);
        let dead = payee(vec![Card {
            status: CardStatus::Cancelled,
            cancel_reason: Some(CancelReason::Death),
            ..active.clone()
        }]);
        assert_eq!(decide_line(&line.name, &facts(Some(&p), &dead)).unwrap_err(), LineOutcome::Deceased);
        let paid = LineFacts { already_paid: true, ..facts(Some(&p), &cards) };
        assert_eq!(decide_line(&line.name, &paid).unwrap_err(), LineOutcome::Duplicate);
        let needs = LineFacts { needs_certification: true, ..facts(Some(&p), &cards) };
        assert_eq!(decide_line(&line.name, &needs).unwrap_err(), LineOutcome::CertificationOverdue);
        let certified = LineFacts { certified_at_ms: Some(needs.now_ms - 86_400_000), ..needs };
        assert!(decide_line(&line.name, &certified).is_ok());
        let stale = LineFacts { certified_at_ms: Some(needs.now_ms - 400 * 86_400_000), ..needs };
        assert_eq!(decide_line(&line.name, &stale).unwrap_err(), LineOutcome::CertificationOverdue);
        let none: Vec<PayeeCard> = vec![];
        assert_eq!(decide_line(&line.name, &facts(Some(&p), &none)).unwrap_err(), LineOutcome::NoFinancialAccount);
        let temp = payee(vec![Card { temporary: true, pan: None, ..active.clone() }]);
        assert_eq!(decide_line(&line.name, &facts(Some(&p), &temp)).unwrap_err(), LineOutcome::NoFinancialAccount);
        let emigrated = payee(vec![Card {
            status: CardStatus::Cancelled,
            cancel_reason: Some(CancelReason::Emigration),
            ..active
        }]);
        assert_eq!(decide_line(&line.name, &facts(Some(&p), &emigrated)).unwrap_err(), LineOutcome::NoFinancialAccount);
    }

    #[test]
    fn the_money_follows_the_card_in_use() {
        let lost = Card { produced_at_ms: 1, ..card(CardStatus::Lost) };
        let new_no = crate::ids::CardNo::parse("B00000002").unwrap();
        let replacement = Card { card_no: new_no.clone(), produced_at_ms: 2, ..card(CardStatus::Issued) };
        // The lost card's account until the replacement is activated.
        let cards = payee(vec![lost.clone(), replacement.clone()]);
        assert_eq!(paying_card(&cards).unwrap().card_no, lost.card_no);
        let activated = Card { status: CardStatus::Active, ..replacement.clone() };
        let cards = payee(vec![Card { status: CardStatus::Replaced, ..lost }, activated]);
        assert_eq!(paying_card(&cards).unwrap().card_no, new_no);
        assert_eq!(paying_card(&payee(vec![replacement])).unwrap().card_no, new_no);
        assert!(paying_card(&payee(vec![card(CardStatus::Produced)])).is_none());
    }

    #[test]
    fn keys_fit_iso_20022_and_certification_lasts_its_months() {
        let id = end_to_end_id(9_999_999_999, MAX_BATCH_LINES);
        assert!(id.len() <= 35, "{id}");
        assert_eq!(transfer_key("SSB1L2"), "benefit:SSB1L2");
        assert!(crate::ledger::check_key(&transfer_key(&id)).is_ok());
        let at = 1_780_000_000_000;
        assert!(certification_holds(Some(at), at + 300 * 86_400_000, 12));
        assert!(!certification_holds(Some(at), at + 370 * 86_400_000, 12));
        assert!(!certification_holds(None, at, 12));
        assert!(marks_retired(ProgramKind::Pension) && !marks_retired(ProgramKind::TaxRefund));
    }

    #[test]
    fn payers_see_and_submit_only_their_own() {
        let a = |role, person: Option<&str>, org: Option<&str>| Actor {
            name: "u".into(),
            role,
            person_id: person.map(str::to_string),
            bank_code: org.map(str::to_string),
        };
        let payer = a(Role::Payer, None, Some("PF"));
        assert!(may_submit(&payer, "PF").is_ok());
        assert!(may_submit(&payer, "TAX").is_err());
        assert!(may_view_batch(&payer, "TAX").is_err());
        assert!(may_view_batch(&a(Role::Clerk, None, None), "TAX").is_ok());
        assert_eq!(batch_list_scope(&payer).ok().flatten().as_deref(), Some("PF"));
        assert_eq!(batch_list_scope(&a(Role::Clerk, None, None)).ok(), Some(None));
        assert!(batch_list_scope(&a(Role::Teller, None, Some("PF"))).is_err());
        assert!(batch_list_scope(&a(Role::Holder, Some("p"), None)).is_err());
        assert!(may_submit(&a(Role::Teller, None, Some("PF")), "PF").is_err());
        assert!(may_submit(&a(Role::Holder, Some("p"), None), "PF").is_err());
        assert_eq!(a(Role::Teller, None, Some("PF")).payer_code(), None);
        assert!(may_manage_payers(&payer).is_err());
        assert!(may_certify(&a(Role::Holder, Some("p"), None), "p").is_ok());
        assert!(may_certify(&a(Role::Holder, Some("q"), None), "p").is_err());
        assert!(may_certify(&payer, "p").is_err());
        let c = card(CardStatus::Active);
        let p = person(&c);
        assert!(may_view_benefits(&a(Role::Holder, Some(&p.id), None), &p).is_ok());
        assert!(may_view_benefits(&a(Role::Holder, Some("other"), None), &p).is_err());
        assert!(may_view_benefits(&a(Role::Teller, None, Some("CCB")), &p).is_err());
        assert!(may_view_benefits(&payer, &p).is_err());
        assert!(may_view_benefits(&a(Role::Clerk, None, None), &p).is_ok());
    }

    #[test]
    fn a_role_acting_for_no_payer_is_refused_before_it_is_asked_to_name_one() {
        let a = |role, org: Option<&str>| Actor {
            name: "u".into(),
            role,
            person_id: None,
            bank_code: org.map(str::to_string),
        };
        assert_eq!(payer_acted_for(&a(Role::Payer, Some("PF")), None).ok().as_deref(), Some("PF"));
        assert_eq!(payer_acted_for(&a(Role::Admin, None), Some(" pf ")).ok().as_deref(), Some("PF"));
        let kind = |role| payer_acted_for(&a(role, None), None).map_err(|e| (e.kind, e.code));
        assert_eq!(kind(Role::Admin), Err((ErrorKind::Invalid, "payer_required")));
        assert_eq!(kind(Role::Clerk), Err((ErrorKind::Invalid, "payer_required")));
        for role in [Role::Holder, Role::Teller, Role::Terminal] {
            assert_eq!(kind(role).map_err(|e| e.0), Err(ErrorKind::Forbidden), "{role:?}");
        }
    }

    #[test]
    fn only_identity_terminals_of_the_agency_take_certifications() {
        let region = crate::ids::RegionCode::parse("350200").expect("region");
        let op = |kind| Operator { code: "OP".into(), name: "op".into(), kind, region };
        let t = |scenario, operator: &str| Terminal {
            id: "T1".into(),
            operator_code: operator.into(),
            scenario,
            region,
            scope: crate::terminal::Scope::default(),
            disabled: false,
            created_at_ms: 0,
        };
        assert!(may_certify_at(&op(OperatorKind::Agency), &t(Scenario::Identity, "OP")).is_ok());
        let e = may_certify_at(&op(OperatorKind::Hospital), &t(Scenario::Identity, "OP")).expect_err("hospital");
        assert_eq!(e.code, "not_certifying_terminal");
        assert!(may_certify_at(&op(OperatorKind::Hospital), &t(Scenario::Medical, "OP")).is_err());
        // Another operator's terminal does not become the agency's.
        assert!(may_certify_at(&op(OperatorKind::Agency), &t(Scenario::Identity, "OTHER")).is_err());
    }
}
