//! Importing older-generation (2nd generation) cards: they keep working until the
//! holder activates a third-generation card, which then replaces them.
//!
//! The import file (`sscard import cards FILE.csv`) has a header line and these columns
//! (plain CSV, no quoted fields): [`CSV_HEADER`]; sex and birth_date may be empty when the
//! document carries them. [`csv_lines`] and [`parse_csv_line`] read it (fuzzed in `fuzz/`).

use super::cards::subject;
use super::persons::register_in;
use super::{Ctx, record};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::{Card, CardStatus};
use sscard_domain::document::{DocType, Document, DocumentError, Sex};
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, CardNo, IdError, RegionCode};
use sscard_domain::person::RegistrationInput;
use sscard_store::Result;
use sscard_store::tx::Store;
use time::Date;

/// Rows accepted in one import call.
pub const MAX_ROWS: usize = 1_000_000;

/// The header line of the import file.
pub const CSV_HEADER: &str = "doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on";

/// Why an import file or one of its lines cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the first line must be the header: {CSV_HEADER}")]
    MissingHeader,
    #[error("the file has {rows} rows; at most {MAX_ROWS} per import")]
    TooManyRows { rows: usize },
    #[error("expected 10 columns ({CSV_HEADER}), found {found}")]
    Columns { found: usize },
    #[error("{column} must be a date YYYY-MM-DD")]
    BadDate { column: &'static str },
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Id(#[from] IdError),
}

/// The data lines of an import file with their 1-based line numbers, after checking the
/// header (a UTF-8 byte-order mark before it is allowed) and the row limit. Blank lines are
/// skipped.
pub fn csv_lines(text: &str) -> std::result::Result<Vec<(usize, &str)>, CsvError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, header)) if header.trim().trim_start_matches('\u{feff}') == CSV_HEADER => {}
        _ => return Err(CsvError::MissingHeader),
    }
    let lines: Vec<(usize, &str)> = lines.map(|(n, l)| (n + 1, l)).collect();
    if lines.len() > MAX_ROWS {
        return Err(CsvError::TooManyRows { rows: lines.len() });
    }
    Ok(lines)
}

fn csv_date(s: &str, column: &'static str) -> std::result::Result<Date, CsvError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).map_err(|_| CsvError::BadDate { column })
}

/// One data line of the import file. Fields are trimmed; the document number, card number
/// and bank code are checked when the row is imported ([`import_row`]).
pub fn parse_csv_line(line: &str) -> std::result::Result<ImportRow, CsvError> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    let [doc_type, doc_number, name, sex, birth, region, card_no, bank_code, issued, expires] = f.as_slice() else {
        return Err(CsvError::Columns { found: f.len() });
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(ImportRow {
        person: RegistrationInput {
            doc_type: DocType::parse(doc_type)?,
            doc_number: doc_number.to_string(),
            name: name.to_string(),
            sex: opt(sex).map(|s| Sex::parse(&s)).transpose()?,
            birth_date: opt(birth).map(|s| csv_date(&s, "birth_date")).transpose()?,
            region: RegionCode::parse(region)?,
            guardian_id: None,
            relationship_proof: None,
        },
        card_no: card_no.to_string(),
        bank_code: bank_code.to_string(),
        issued_on: csv_date(issued, "issued_on")?,
        expires_on: csv_date(expires, "expires_on")?,
    })
}

/// One line of the import file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub person: RegistrationInput,
    pub card_no: String,
    pub bank_code: String,
    pub issued_on: Date,
    pub expires_on: Date,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Imported,
    Skipped(String),
}

/// Imports one row in its own transaction: the person is registered if new, the card is stored active.
pub async fn import_row(store: &dyn Store, ctx: &Ctx, row: &ImportRow) -> Result<RowOutcome> {
    access::may_administer(&ctx.actor)?;
    let card_no = CardNo::parse(&row.card_no)?;
    let bank_code = BankCode::parse(&row.bank_code)?;
    let mut tx = store.write().await?;
    if tx.get_bank(bank_code.as_str()).await?.is_none() {
        return Ok(RowOutcome::Skipped(format!("no bank {bank_code}")));
    }
    if tx.get_card(card_no.as_str(), false).await?.is_some() {
        return Ok(RowOutcome::Skipped(format!("card {card_no} was already imported")));
    }
    let document =
        Document::parse(row.person.doc_type, &row.person.doc_number, ctx.today()).map_err(DomainError::from)?;
    let existing = match document.ssn() {
        Some(ssn) => tx.find_person_by_ssn(ssn.as_str()).await?,
        None => None,
    };
    let person = match existing {
        Some(p) => p,
        None => register_in(tx.as_mut(), ctx, &row.person).await?,
    };
    let person = tx.get_person(&person.id, true).await?.unwrap_or(person);
    let cards = tx.cards_of_person(&person.id).await?;
    if let Some(live) = cards.iter().find(|c| c.status.is_live()) {
        return Ok(RowOutcome::Skipped(format!("the person already has usable card {}", live.card_no)));
    }
    let status = if row.expires_on < ctx.today() { CardStatus::Cancelled } else { CardStatus::Active };
    let card = Card {
        card_no,
        person_id: person.id.clone(),
        status,
        generation: 2,
        temporary: false,
        bank_code,
        pan: None,
        card_id_code: None,
        region: person.region,
        channel: None,
        application_id: None,
        issued_on: Some(row.issued_on),
        expires_on: row.expires_on,
        pin_hash: None,
        suspended_at_ms: None,
        status_changed_at_ms: ctx.now_ms,
        produced_at_ms: ctx.now_ms,
        cancel_reason: None,
        destroyed: false,
    };
    tx.insert_card(&card).await?;
    record(
        tx.as_mut(),
        ctx,
        "card.imported",
        &subject(&card, &person),
        json!({ "generation": 2, "status": status.as_str() }),
    )
    .await?;
    super::ecard::sync_in(tx.as_mut(), ctx, &person).await?;
    tx.commit().await?;
    Ok(RowOutcome::Imported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LINE: &str = "resident_id, 11010519491231002X ,Zhang San,,,110105,T12345678,ICBC,2015-01-01,2025-01-01";

    #[test]
    fn a_line_parses_into_its_fields() {
        let row = parse_csv_line(LINE).expect("valid");
        assert_eq!(row.person.doc_type, DocType::ResidentId);
        assert_eq!(row.person.doc_number, "11010519491231002X");
        assert_eq!((row.person.sex, row.person.birth_date), (None, None));
        assert_eq!(row.person.region.code(), 110_105);
        assert_eq!((row.card_no.as_str(), row.bank_code.as_str()), ("T12345678", "ICBC"));
        assert_eq!(row.expires_on, time::macros::date!(2025 - 01 - 01));
    }

    #[test]
    fn bad_lines_are_refused_naming_what_is_wrong() {
        assert_eq!(parse_csv_line("a,b,c").err(), Some(CsvError::Columns { found: 3 }));
        assert_eq!(parse_csv_line(&format!("{LINE},extra")).err(), Some(CsvError::Columns { found: 11 }));
        let bad_date = LINE.replace("2015-01-01", "2015-02-30");
        assert_eq!(parse_csv_line(&bad_date).err(), Some(CsvError::BadDate { column: "issued_on" }));
        assert!(matches!(parse_csv_line(&LINE.replace("resident_id", "visa")), Err(CsvError::Document(_))));
        assert!(matches!(parse_csv_line(&LINE.replace("110105", "11010")), Err(CsvError::Id(_))));
    }

    #[test]
    fn the_file_needs_its_header_and_numbers_lines_from_one() {
        assert_eq!(csv_lines("").err(), Some(CsvError::MissingHeader));
        assert_eq!(csv_lines(LINE).err(), Some(CsvError::MissingHeader));
        let text = format!("\u{feff}{CSV_HEADER}\r\n\n{LINE}\r\n  \n{LINE}\n");
        let lines = csv_lines(&text).expect("valid");
        assert_eq!(lines.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [3, 5]);
        assert!(lines.iter().all(|(_, l)| parse_csv_line(l).is_ok()));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn no_text_makes_the_reader_panic(text in "\\PC{0,300}", cells in proptest::collection::vec("[^,\n]{0,12}", 0..12)) {
            let _ = csv_lines(&text);
            for line in text.lines() {
                let _ = parse_csv_line(line);
            }
            let line = cells.join(",");
            if let Err(CsvError::Columns { found }) = parse_csv_line(&line) {
                prop_assert_eq!(found, line.split(',').count());
            }
        }

        #[test]
        fn a_written_row_reads_back_the_same(
            doc_type in proptest::sample::select(&DocType::ALL[..]),
            number in "[A-Z0-9]{5,18}",
            name in "[^,\\s][^,\n\r]{0,20}[^,\\s]",
            sex in proptest::option::of(proptest::sample::select(&[Sex::Male, Sex::Female][..])),
            birth in proptest::option::of(0i32..30_000),
            region in 110_000u32..660_000,
            days in (0i32..30_000, 0i32..30_000),
        ) {
            let day = |n: i32| Date::from_julian_day(2_415_021 + n).expect("in range");
            let Ok(region) = RegionCode::from_code(region) else { return Ok(()) };
            let line = format!(
                "{doc_type},{number},{name},{},{},{region},T12345678,ICBC,{},{}",
                sex.map(|s| s.to_string()).unwrap_or_default(),
                birth.map(|b| day(b).to_string()).unwrap_or_default(),
                day(days.0),
                day(days.1),
            );
            let row = parse_csv_line(&line).expect("a written row reads back");
            prop_assert_eq!(row.person.doc_type, doc_type);
            prop_assert_eq!(&row.person.doc_number, &number);
            prop_assert_eq!(&row.person.name, name.trim());
            prop_assert_eq!(row.person.sex, sex);
            prop_assert_eq!(row.person.birth_date, birth.map(day));
            prop_assert_eq!(row.person.region, region);
            prop_assert_eq!((row.issued_on, row.expires_on), (day(days.0), day(days.1)));
        }
    }
}
