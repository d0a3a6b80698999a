//! Importing older-generation (2nd generation) cards: they keep working until the
//! holder activates a third-generation card, which then replaces them.
//!
//! The import file (`sscard import cards FILE.csv`) has a header line and these columns:
//! [`CSV_HEADER`]; sex and birth_date may be empty when the document carries them. It is read
//! with the `csv` crate ([`crate::csv_rows`]): quoted fields, a byte-order mark, CRLF line ends
//! and blank lines as spreadsheets write them. [`import_lines`] reads a file a row at a time,
//! [`count_lines`] checks and counts it first without keeping it, [`parse_row`] reads one row
//! (fuzzed in `fuzz/`, as are [`csv_lines`] and [`parse_csv_line`]).

use super::cards::subject;
use super::csv_rows::{CsvFileError, CsvRow, CsvRows};
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
use std::io::Read;
use time::Date;

/// Rows accepted in one import call.
pub const MAX_ROWS: usize = 1_000_000;

/// The header line of the import file.
pub const CSV_HEADER: &str = "doc_type,doc_number,name,sex,birth_date,region,card_no,bank_code,issued_on,expires_on";

/// Why an import file or one of its lines cannot be read. A line's own errors name its column;
/// the CLI prefixes the line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the first line must be the header: {CSV_HEADER}")]
    MissingHeader,
    #[error("the file has more than {MAX_ROWS} rows; at most {MAX_ROWS} per import")]
    TooManyRows,
    #[error(transparent)]
    Unreadable(CsvFileError),
    #[error("expected 10 columns ({CSV_HEADER}), found {found}")]
    Columns { found: usize },
    #[error("{column} must be a date YYYY-MM-DD")]
    BadDate { column: &'static str },
    #[error("{column}: {source}")]
    Document { column: &'static str, source: DocumentError },
    #[error("{column}: {source}")]
    Id { column: &'static str, source: IdError },
}

impl From<CsvFileError> for CsvError {
    fn from(e: CsvFileError) -> Self {
        match e {
            CsvFileError::TooManyRows { .. } => CsvError::TooManyRows,
            e => CsvError::Unreadable(e),
        }
    }
}

/// An import file's data rows, read one at a time after its header was checked (a UTF-8
/// byte-order mark before it is allowed); at most [`MAX_ROWS`].
pub fn import_lines<R: Read>(input: R) -> std::result::Result<CsvRows<R>, CsvError> {
    let mut rows = CsvRows::new(input, MAX_ROWS);
    let header = rows.header()?.ok_or(CsvError::MissingHeader)?;
    if !header.iter().map(|f| f.to_ascii_lowercase()).eq(CSV_HEADER.split(',')) {
        return Err(CsvError::MissingHeader);
    }
    Ok(rows)
}

/// The number of data rows of an import file, read to its end without keeping any: a wrong
/// header, bytes that are not text or more than [`MAX_ROWS`] rows refuse it before anything
/// is imported.
pub fn count_lines<R: Read>(input: R) -> std::result::Result<usize, CsvError> {
    Ok(import_lines(input)?.count()?)
}

/// The data rows of an import file in memory, with the lines they start on (1-based; blank
/// lines skipped), counted before any is kept.
pub fn csv_lines(text: &str) -> std::result::Result<Vec<CsvRow>, CsvError> {
    let n = count_lines(text.as_bytes())?;
    let mut lines = import_lines(text.as_bytes())?;
    let mut out = Vec::with_capacity(n);
    while let Some(row) = lines.next_row()? {
        out.push(row);
    }
    Ok(out)
}

fn csv_date(s: &str, column: &'static str) -> std::result::Result<Date, CsvError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).map_err(|_| CsvError::BadDate { column })
}

/// One data row of the import file (its fields trimmed, as [`CsvRows`] gives them). The
/// document number, card number and bank code are checked when the row is imported
/// ([`import_row`]).
pub fn parse_row(fields: &[String]) -> std::result::Result<ImportRow, CsvError> {
    let [doc_type, doc_number, name, sex, birth, region, card_no, bank_code, issued, expires] = fields else {
        return Err(CsvError::Columns { found: fields.len() });
    };
    let document = |column| move |source| CsvError::Document { column, source };
    Ok(ImportRow {
        person: RegistrationInput {
            doc_type: DocType::parse(doc_type).map_err(document("doc_type"))?,
            doc_number: doc_number.clone(),
            name: name.clone(),
            sex: nonempty(sex).map(Sex::parse).transpose().map_err(document("sex"))?,
            birth_date: nonempty(birth).map(|s| csv_date(s, "birth_date")).transpose()?,
            region: RegionCode::parse(region).map_err(|source| CsvError::Id { column: "region", source })?,
            guardian_id: None,
            relationship_proof: None,
        },
        card_no: card_no.clone(),
        bank_code: bank_code.clone(),
        issued_on: csv_date(issued, "issued_on")?,
        expires_on: csv_date(expires, "expires_on")?,
    })
}

fn nonempty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// One line of CSV text (no header) read as a row of the import file.
pub fn parse_csv_line(line: &str) -> std::result::Result<ImportRow, CsvError> {
    let mut rows = CsvRows::new(line.as_bytes(), 1);
    let fields = rows.next_row()?.map(|r| r.fields).unwrap_or_default();
    parse_row(&fields)
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
        let e = parse_csv_line(&LINE.replace("resident_id", "visa")).expect_err("unknown type");
        assert!(matches!(e, CsvError::Document { column: "doc_type", .. }), "{e:?}");
        assert!(e.to_string().starts_with("doc_type: unknown document type \"visa\""), "{e}");
        let e = parse_csv_line(&LINE.replace(",,,", ",unknown,,")).expect_err("unknown sex");
        assert!(matches!(e, CsvError::Document { column: "sex", .. }), "{e:?}");
        let e = parse_csv_line(&LINE.replace("110105", "11010")).expect_err("bad region");
        assert!(matches!(e, CsvError::Id { column: "region", .. }) && e.to_string().starts_with("region: "), "{e}");
    }

    #[test]
    fn the_file_needs_its_header_and_numbers_lines_from_one() {
        assert_eq!(csv_lines("").err(), Some(CsvError::MissingHeader));
        assert_eq!(csv_lines(LINE).err(), Some(CsvError::MissingHeader));
        assert_eq!(csv_lines(&CSV_HEADER.replace("name", "full_name")).err(), Some(CsvError::MissingHeader));
        let text = format!("\u{feff}{CSV_HEADER}\r\n\n{LINE}\r\n  \n{LINE}\n");
        let lines = csv_lines(&text).expect("valid");
        assert_eq!(lines.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 5]);
        assert!(lines.iter().all(|r| parse_row(&r.fields).is_ok()));
    }

    #[test]
    fn a_quoted_name_with_a_comma_is_one_field() {
        let line = LINE.replace("Zhang San", "\"Zhang, San \"\"Jr\"\"\"");
        let text = format!("{CSV_HEADER}\n{line}\n");
        let lines = csv_lines(&text).expect("valid");
        let row = parse_row(&lines[0].fields).expect("ten columns");
        assert_eq!(row.person.name, "Zhang, San \"Jr\"");
        assert_eq!((row.card_no.as_str(), row.bank_code.as_str()), ("T12345678", "ICBC"));
        assert_eq!(parse_csv_line(&line).map(|r| r.person.name).ok().as_deref(), Some("Zhang, San \"Jr\""));
    }

    #[test]
    fn an_excel_file_with_a_bom_and_crlf_reads_with_its_line_numbers() {
        let excel = format!("\u{feff}{CSV_HEADER}\r\n{LINE}\r\n\r\n{}\r\n", LINE.replace("Zhang San", "\"Li, Si\""));
        let lines = csv_lines(&excel).expect("valid");
        assert_eq!(lines.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        let rows: Vec<ImportRow> = lines.iter().map(|r| parse_row(&r.fields).expect("valid")).collect();
        assert_eq!(rows[1].person.name, "Li, Si");
        assert_eq!(rows[1].expires_on, time::macros::date!(2025 - 01 - 01), "no \\r is left in the last field");
        assert_eq!(count_lines(excel.as_bytes()), Ok(2));
    }

    #[test]
    fn a_row_with_the_wrong_number_of_columns_is_named_by_its_line() {
        let short = LINE.rsplit_once(',').map(|(head, _)| head).unwrap_or_default();
        let text = format!("{CSV_HEADER}\r\n{LINE}\r\n{short}\r\n{LINE},\"x,y\"\r\n");
        let lines = csv_lines(&text).expect("readable");
        let refused: Vec<(u64, CsvError)> =
            lines.iter().filter_map(|r| parse_row(&r.fields).err().map(|e| (r.line, e))).collect();
        assert_eq!(refused, [(3, CsvError::Columns { found: 9 }), (4, CsvError::Columns { found: 11 })]);
        assert_eq!(refused[0].1.to_string(), format!("expected 10 columns ({CSV_HEADER}), found 9"));
    }

    #[test]
    fn a_file_over_the_row_limit_is_refused_before_its_rows_are_kept() {
        let full = format!("{CSV_HEADER}\n{}", "x\n".repeat(MAX_ROWS));
        assert_eq!(count_lines(full.as_bytes()), Ok(MAX_ROWS));
        let over = format!("{full}\n\ny\n");
        assert_eq!(count_lines(over.as_bytes()), Err(CsvError::TooManyRows));
        assert_eq!(csv_lines(&over).err(), Some(CsvError::TooManyRows));
        assert_eq!(
            CsvError::TooManyRows.to_string(),
            "the file has more than 1000000 rows; at most 1000000 per import"
        );
    }

    #[test]
    fn bytes_that_are_not_text_refuse_the_file_naming_the_line() {
        let mut bytes = format!("{CSV_HEADER}\n{LINE}\n").into_bytes();
        bytes.extend_from_slice(b"resident_id,\xff\n");
        let e = count_lines(&bytes[..]).expect_err("not UTF-8");
        assert_eq!(e.to_string(), "line 3: column 2 is not UTF-8 text");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn no_text_makes_the_reader_panic(text in "\\PC{0,300}", cells in proptest::collection::vec("[^,\n\"]{0,12}", 0..12)) {
            let _ = csv_lines(&text);
            for line in text.lines() {
                let _ = parse_csv_line(line);
            }
            let line = cells.join(",");
            // A line of nothing but white space and commas (after the byte-order mark a file
            // may start with) is blank: no columns at all.
            let blank = line.trim_start_matches('\u{feff}').split(',').all(|c| c.trim().is_empty());
            let columns = if blank { 0 } else { cells.len() };
            if let Err(CsvError::Columns { found }) = parse_csv_line(&line) {
                prop_assert_eq!(found, columns);
            }
        }

        #[test]
        fn a_written_row_reads_back_the_same(
            doc_type in proptest::sample::select(&DocType::ALL[..]),
            number in "[A-Z0-9]{5,18}",
            name in "[^\\s][^\n\r]{0,20}[^\\s]",
            sex in proptest::option::of(proptest::sample::select(&[Sex::Male, Sex::Female][..])),
            birth in proptest::option::of(0i32..30_000),
            region in 110_000u32..660_000,
            days in (0i32..30_000, 0i32..30_000),
        ) {
            let day = |n: i32| Date::from_julian_day(2_415_021 + n).expect("in range");
            let Ok(region) = RegionCode::from_code(region) else { return Ok(()) };
            let line = format!(
                "{doc_type},{number},\"{}\",{},{},{region},T12345678,ICBC,{},{}",
                name.replace('"', "\"\""),
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
