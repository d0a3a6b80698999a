//! Many rows as few: a query's rows aggregated into JSON arrays of a hundred-odd rows each and
//! parsed here with serde into a tuple per row. The driver's per-row path (a channel message between its
//! worker and the caller, an owned copy and a type conversion of every column, each column
//! found by name) costs several times what SQLite spends on a bulk read itself, so the hot
//! bulk reads (a chunk of benefit lines to pay, a bank's credit lines) come back this way.
//! The aggregate's order is not relied on: callers sort what they parse.

use crate::Dialect;
use serde::de::DeserializeOwned;
use sscard_store::{Result, StoreError};

/// The statement returning `inner`'s rows as JSON arrays of rows (one value per `columns`, in
/// their order), a row of the answer per value of `group` (an expression over `inner`'s
/// columns, as `j.seq / 100`), in a column `rows`. Pieces of a hundred-odd rows: one array
/// for thousands of rows is a message of megabytes, and such transient blocks left the
/// process's resident set larger (measured on PostgreSQL) than the bulk reads need.
pub(crate) fn wrap(dialect: Dialect, columns: &str, inner: &str, group: &str) -> String {
    match dialect {
        Dialect::Sqlite => {
            format!("SELECT json_group_array(json_array({columns})) AS rows FROM ({inner}) AS j GROUP BY {group}")
        }
        Dialect::Postgres => format!(
            "SELECT CAST(json_agg(json_build_array({columns})) AS TEXT) AS rows FROM ({inner}) AS j GROUP BY {group}"
        ),
    }
}

/// The rows of a [`wrap`]ped statement's answer (its pieces in any order).
pub(crate) fn parse<T: DeserializeOwned>(what: &str, pieces: Vec<String>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for piece in pieces {
        let rows: Vec<T> =
            serde_json::from_str(&piece).map_err(|e| StoreError::corrupt(format!("{what} rows: {e}")))?;
        out.extend(rows);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_into_tuples_with_nulls_and_no_piece_is_no_row() {
        let pieces = vec![r#"[[1,"a"],[2,null]]"#.to_string(), r#"[[3,"c"]]"#.to_string()];
        let rows: Vec<(i64, Option<String>)> = parse("t", pieces).unwrap();
        assert_eq!(rows, vec![(1, Some("a".into())), (2, None), (3, Some("c".into()))]);
        assert!(parse::<(i64,)>("t", Vec::new()).unwrap().is_empty());
        let bad = parse::<(i64,)>("t", vec![r#"[["x"]]"#.to_string()]).unwrap_err();
        assert!(bad.to_string().contains("t rows"), "{bad}");
    }

    #[test]
    fn both_dialects_aggregate_the_named_columns_in_groups() {
        let s = wrap(Dialect::Sqlite, "a, b", "SELECT 1 AS a, 2 AS b", "j.a / 100");
        assert!(s.starts_with("SELECT json_group_array(json_array(a, b))"), "{s}");
        assert!(s.ends_with("GROUP BY j.a / 100"), "{s}");
        let p = wrap(Dialect::Postgres, "a, b", "SELECT 1 AS a, 2 AS b", "j.a / 100");
        assert!(p.contains("json_agg(json_build_array(a, b))"), "{p}");
    }
}
