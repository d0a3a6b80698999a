//! `sscard bench scale` run with tiny sizes on SQLite, so the benchmark cannot rot: it seeds
//! two fresh databases in bulk, times every operation on both and prints one row per
//! operation with latencies and ratios.

use crate::helpers::{Db, ok, run};

/// The numbers of the table row of `operation` in the output.
fn row(out: &str, operation: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(operation))
        .unwrap_or_else(|| panic!("no {operation} row in:\n{out}"));
    line[line.find(operation).unwrap_or(0) + operation.len()..]
        .split_whitespace()
        .map(|f| f.parse::<f64>().unwrap_or_else(|_| panic!("not a number {f:?} in {line:?}")))
        .collect()
}

#[test]
fn scale_seeds_two_databases_and_times_each_operation() {
    let db = Db::sqlite();
    let out = ok(&run(
        &db,
        &["bench", "scale", "--backend", "sqlite", "--small", "40", "--persons", "120", "--ops", "30", "--warmup", "3"],
    ));
    assert!(out.contains("small database: 40 persons with an active card and an e-card"), "{out}");
    assert!(out.contains("large database: 120 persons with an active card and an e-card"), "{out}");
    assert!(out.contains("30 per operation and database"), "{out}");
    for op in ["temporary loss (suspend)", "lift (unsuspend)", "QR issue", "QR verify online"] {
        let v = row(&out, op);
        assert_eq!(v.len(), 6, "{op}: {v:?}");
        let [small_median, small_p99, large_median, large_p99, ratio, _] = [v[0], v[1], v[2], v[3], v[4], v[5]];
        assert!(small_median > 0.0 && large_median > 0.0, "{op}: {v:?}");
        assert!(small_median <= small_p99 && large_median <= large_p99, "{op}: {v:?}");
        assert!((ratio - large_median / small_median).abs() < 0.01 + ratio * 0.01, "{op}: {v:?}");
    }
    assert!(out.contains("goal: large / small median at most 1.2 for every operation: "), "{out}");
}
