//! Many rows as one: a query's rows aggregated into one JSON array in one row and parsed here
//! with serde into a tuple per row. The driver's per-row path (a channel message between its
//! worker and the caller, an owned copy and a type conversion of every column, each column
//! found by name) costs several times what SQLite spends on a bulk read itself, so the hot
//! bulk reads (a chunk of benefit lines to pay, a bank's credit lines) come back this way.
//! The aggregate's order is not relied on: callers sort what they parse.

use crate::Dialect;
use serde::de::DeserializeOwned;
use sscard_store::{Result, StoreError};

/// The statement returning `inner`'s rows as one JSON array (one value per `columns`, in their
/// order) in a column `rows`: text, or NULL on PostgreSQL when there is no row.
pub(crate) fn wrap(dialect: Dialect, columns: &str, inner: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("SELECT json_group_array(json_array({columns})) AS rows FROM ({inner}) AS j"),
        Dialect::Postgres => {
            format!("SELECT CAST(json_agg(json_build_array({columns})) AS TEXT) AS rows FROM ({inner}) AS j")
        }
    }
}

/// The rows of a [`wrap`]ped statement's answer.
pub(crate) fn parse<T: DeserializeOwned>(what: &str, rows: Option<String>) -> Result<Vec<T>> {
    match rows {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::corrupt(format!("{what} rows: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_into_tuples_with_nulls_and_an_empty_answer_is_no_row() {
        let rows: Vec<(i64, Option<String>)> = parse("t", Some(r#"[[1,"a"],[2,null]]"#.into())).unwrap();
        assert_eq!(rows, vec![(1, Some("a".into())), (2, None)]);
        assert!(parse::<(i64,)>("t", None).unwrap().is_empty());
        assert!(parse::<(i64,)>("t", Some("[]".into())).unwrap().is_empty());
        let bad = parse::<(i64,)>("t", Some(r#"[["x"]]"#.into())).unwrap_err();
        assert!(bad.to_string().contains("t rows"), "{bad}");
    }

    #[test]
    fn both_dialects_aggregate_the_named_columns() {
        let s = wrap(Dialect::Sqlite, "a, b", "SELECT 1 AS a, 2 AS b");
        assert!(s.starts_with("SELECT json_group_array(json_array(a, b))"), "{s}");
        let p = wrap(Dialect::Postgres, "a, b", "SELECT 1 AS a, 2 AS b");
        assert!(p.contains("json_agg(json_build_array(a, b))"), "{p}");
    }
}
