//! `sscard bench benefits --lines N --backend sqlite|postgres`: one benefit batch end to end —
//! the CSV parsed and checked, persons and accounts resolved, one ledger transfer per line, each
//! bank's pain.001 and CSV written to disk — next to raw multi-row inserts of as many rows of the
//! same width (6 columns, 1,000 rows a statement, one transaction per 1,000 like the batch's
//! chunks) into a plain table of the same database, in the same run. Prints seconds, lines per
//! second, the ratio and the process's peak RSS (VmHWM). Persons with an active card are made
//! beforehand through the use cases (not measured), one per line.
//!
//! It also measures the floor of the contract: the three rows that any implementation
//! must write for a paid line (the line kept, so that the batch is checked against its envelope
//! before anything is paid and a killed process can resume; its ledger transfer, under its
//! unique idempotency key; the person × program × period paid once, under a unique key), as bare
//! multi-row inserts of the same rows, with no parsing, sealing, lookup, balance or bank file.
//! Raw inserts over that floor is the best ratio such an implementation could reach here.

use super::bench::{Backend, BenchDb, bench_name};
use super::bench_benefits_seed::{bench_ssn, seed};
use super::cli_ctx;
use sscard_app::benefits::csv_lines::CsvLines;
use sscard_app::benefits::{self, NewPayer, NewProgram, pay};
use sscard_domain::benefits::{CHUNK_LINES, Envelope};
use sscard_store::Store;
use std::process::ExitCode;
use std::time::Instant;

/// Writes the CSV of a batch paying each of the `n` bench persons `100 + i` fen to `path`
/// (read back a chunk at a time, as `sscard benefits submit` reads its file); returns the total.
fn batch_csv(n: u32, path: &std::path::Path) -> anyhow::Result<i64> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"line_id,ssn,name,amount_fen\r\n")?;
    let mut total = 0i64;
    for i in 0..n {
        let ssn = bench_ssn(i)?;
        let amount = 100 + i64::from(i);
        total += amount;
        write!(out, "L{i},{ssn},{},{amount}\r\n", bench_name(i))?;
    }
    out.flush()?;
    Ok(total)
}

/// Seconds each phase of the batch took: received (the CSV parsed, checked and staged), paid,
/// and the banks' files written.
struct Phases {
    receive_s: f64,
    pay_s: f64,
    files_s: f64,
    /// The peak resident set of each phase (receive, pay, files), in KiB, where /proc tells it.
    peaks_kib: [Option<u64>; 3],
}

/// The batch end to end: receive (parse, check), pay, write the banks' files.
async fn one_batch(
    store: &dyn Store,
    csv: &std::path::Path,
    lines: u32,
    total: i64,
    dir: &std::path::Path,
) -> anyhow::Result<Phases> {
    let ctx = cli_ctx();
    let started = Instant::now();
    let env = Envelope::parse("BENCH-PF", "BENCH-1", "BENCHREF", "2026-10", u64::from(lines), total)
        .map_err(super::bad_field)?;
    let mut reader = CsvLines::new(std::io::BufReader::new(std::fs::File::open(csv)?));
    let mut intake = benefits::begin(store, &ctx, env).await?;
    loop {
        let chunk = reader.next_chunk(CHUNK_LINES).map_err(super::bad_field)?;
        if chunk.is_empty() {
            break;
        }
        intake.push(store, &chunk).await?;
    }
    let batch = intake.finish(store, &ctx).await?;
    let received = Instant::now();
    let received_peak = phase_peak();
    let batch = pay::run_batch(store, &ctx, batch.batch_no, &mut |_| {}).await?;
    let s = pay::summary_of(store, batch).await?;
    let paid = s.outcomes.iter().find(|o| o.outcome.as_str() == "paid").map_or(0, |o| o.lines);
    anyhow::ensure!(paid == i64::from(lines), "only {paid} of {lines} lines were paid: {:?}", s.outcomes);
    let paid_at = Instant::now();
    let paid_peak = phase_peak();
    super::bank_files::write_files(store, "BENCH-PF", "BENCH-1", dir).await?;
    Ok(Phases {
        receive_s: (received - started).as_secs_f64(),
        pay_s: (paid_at - received).as_secs_f64(),
        files_s: paid_at.elapsed().as_secs_f64(),
        peaks_kib: [received_peak, paid_peak, phase_peak()],
    })
}

/// A plain table `table` of the batch lines' width (6 columns).
fn lines_table(table: &str) -> String {
    format!(
        "CREATE TABLE {table} (batch_no BIGINT NOT NULL, seq BIGINT NOT NULL, line_id TEXT NOT NULL, \
         ssn TEXT NOT NULL, name TEXT NOT NULL, amount_fen BIGINT NOT NULL, PRIMARY KEY (batch_no, seq))"
    )
}

/// The values of line `k` in a [`lines_table`].
fn line_values(k: u32) -> String {
    format!("(1, {k}, 'L{k}', '35020319800301{:04}', '{}', {})", k % 10_000, bench_name(k), 100 + k)
}

/// Raw multi-row inserts of `n` rows of the batch lines' width, 1,000 a statement and
/// transaction, into a new plain table `bench_raw_<round>`.
async fn raw_inserts(store: &dyn Store, n: u32, round: u32) -> anyhow::Result<()> {
    let table = format!("bench_raw_{round}");
    let mut tx = store.write().await?;
    tx.execute_unchecked(&lines_table(&table)).await?;
    tx.commit().await?;
    let mut i = 0u32;
    while i < n {
        let end = (i + 1000).min(n);
        let rows: Vec<String> = (i..end).map(line_values).collect();
        let mut tx = store.write().await?;
        tx.execute_unchecked(&format!(
            "INSERT INTO {table} (batch_no, seq, line_id, ssn, name, amount_fen) VALUES {}",
            rows.join(", ")
        ))
        .await?;
        tx.commit().await?;
        i = end;
    }
    Ok(())
}

/// The floor of a paid line (see the module's docs): for each 1,000 lines, one transaction of
/// three multi-row inserts (the lines, their transfers, the once keys) into new plain tables
/// `bench_floor_*`, keys in the order the batch makes them.
async fn floor_inserts(store: &dyn Store, n: u32) -> anyhow::Result<()> {
    let mut tx = store.write().await?;
    for ddl in [
        &lines_table("bench_floor_lines"),
        "CREATE TABLE bench_floor_transfers (id TEXT PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, \
         from_account TEXT NOT NULL, to_account TEXT NOT NULL, amount_fen BIGINT NOT NULL, at_ms BIGINT NOT NULL)",
        "CREATE TABLE bench_floor_once (person_id TEXT NOT NULL, payer TEXT NOT NULL, program TEXT NOT NULL, \
         period TEXT NOT NULL, end_to_end_id TEXT NOT NULL, PRIMARY KEY (person_id, payer, program, period))",
    ] {
        tx.execute_unchecked(ddl).await?;
    }
    tx.commit().await?;
    let mut i = 0u32;
    while i < n {
        let end = (i + 1000).min(n);
        let rows = |f: &dyn Fn(u32) -> String| (i..end).map(f).collect::<Vec<_>>().join(", ");
        let lines = rows(&line_values);
        // Time-ordered ids, as the ledger's (UUID v7) and the persons' are.
        let transfers = rows(&|k| {
            format!("('{}', 'B1L{k:08}', 'payer:PF', 'bank:{}', {}, 1)", sscard_app::new_id(), 1_000_000 + k, 100 + k)
        });
        let once = rows(&|k| format!("('{}', 'PF', 'P', '2026-10', 'B1L{k:08}')", sscard_app::new_id()));
        let mut tx = store.write().await?;
        tx.execute_unchecked(&format!("INSERT INTO bench_floor_lines VALUES {lines}")).await?;
        tx.execute_unchecked(&format!("INSERT INTO bench_floor_transfers VALUES {transfers}")).await?;
        tx.execute_unchecked(&format!("INSERT INTO bench_floor_once VALUES {once}")).await?;
        tx.commit().await?;
        i = end;
    }
    Ok(())
}

/// Wall-clock and CPU seconds of a part of the run. The CPU time is this process's (every
/// thread: SQLite runs in it) and, on PostgreSQL, the database's server processes': on a
/// shared machine it says how much work a part took however busy the cores were.
#[derive(Debug, Clone, Copy, Default)]
struct Spent {
    wall_s: f64,
    cpu_s: Option<f64>,
}

/// Nanoseconds on the CPU so far of one thread or process (`/proc/.../schedstat`, Linux).
fn schedstat_ns(path: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.split_whitespace().next()?.parse().ok()
}

/// CPU time so far of this process and of the database's server processes, by process.
async fn cpu_now(db: &BenchDb) -> Option<std::collections::HashMap<i64, u64>> {
    let mut out = std::collections::HashMap::new();
    let mut own = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        own += schedstat_ns(&task.ok()?.path().join("schedstat"))?;
    }
    out.insert(0, own);
    for pid in sscard_store_sql::bench::backend_pids(&db.sql).await.ok()? {
        if let Some(ns) = schedstat_ns(std::path::Path::new(&format!("/proc/{pid}/schedstat"))) {
            out.insert(pid, ns);
        }
    }
    Some(out)
}

/// Runs `part`, timing it on the clock and on the CPU.
async fn spent<T>(
    db: &BenchDb,
    part: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(T, Spent)> {
    let before = cpu_now(db).await;
    let started = Instant::now();
    let out = part.await?;
    let wall_s = started.elapsed().as_secs_f64();
    let after = cpu_now(db).await;
    // A server process that started meanwhile counts from zero.
    let cpu_s = before.zip(after).map(|(b, a)| {
        a.iter().map(|(pid, ns)| ns.saturating_sub(b.get(pid).copied().unwrap_or(0))).sum::<u64>() as f64 / 1e9
    });
    Ok((out, Spent { wall_s, cpu_s }))
}

/// Resets the process's peak resident set to its current one (Linux: `5` into
/// `/proc/self/clear_refs`), so the batch's peak is not the seeding's; false where it cannot.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak resident set since the last reset, which it resets for the next phase.
fn phase_peak() -> Option<u64> {
    let peak = peak_rss_kib();
    reset_peak_rss();
    peak
}

/// The process's peak resident set (VmHWM), in KiB, where /proc tells it.
fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// The process's resident set now (VmRSS), in KiB.
fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn benefits_bench(backend: Backend, lines: u32) -> anyhow::Result<ExitCode> {
    let lines = lines.clamp(10, 2_000_000);
    let mut db = BenchDb::open(backend).await?;
    let seeded = Instant::now();
    seed(&db, lines, &mut |_| {}).await?;
    // The batch runs as `sscard benefits submit` would, in a store just opened.
    db.reopen().await?;
    let store = db.store.clone();
    let admin = cli_ctx();
    let payer = NewPayer::parse("BENCH-PF", "Bench Pension Fund", "350203").map_err(super::bad_field)?;
    benefits::add_payer(store.as_ref(), &admin, &payer).await?;
    let program = NewProgram::parse("BENCHREF", "Bench refund", "tax_refund", false).map_err(super::bad_field)?;
    benefits::add_program(store.as_ref(), &admin, &program).await?;
    let dir = std::env::temp_dir().join(format!("sscard-bench-benefits-{}", std::process::id()));
    let csv = std::env::temp_dir().join(format!("sscard-bench-benefits-{}.csv", std::process::id()));
    let total = batch_csv(lines, &csv)?;
    let seed_s = seeded.elapsed().as_secs_f64();
    let seed_rss = peak_rss_kib();
    let start_rss = rss_kib();
    // Raw inserts before and after the batch: the machine's pace may change during the run.
    let ((), raw1) = spent(&db, raw_inserts(store.as_ref(), lines, 1)).await?;
    let ((), floor) = spent(&db, floor_inserts(store.as_ref(), lines)).await?;
    let batch_rss = reset_peak_rss().then(peak_rss_kib).flatten();
    let (phases, batch) = spent(&db, one_batch(store.as_ref(), &csv, lines, total, &dir)).await?;
    // The phases reset the peak as they go: the batch's is the highest of theirs.
    let batch_rss = batch_rss.and(phases.peaks_kib.iter().flatten().max().copied());
    let files: u64 = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&csv);
    let ((), raw2) = spent(&db, raw_inserts(store.as_ref(), lines, 2)).await?;
    let backend_name = store.backend();
    db.finish().await?;
    println!(
        "backend {backend_name}, one batch of {lines} lines (persons with cards seeded in {seed_s:.1} s, not measured)"
    );
    let raw = Spent {
        wall_s: (raw1.wall_s + raw2.wall_s) / 2.0,
        cpu_s: raw1.cpu_s.zip(raw2.cpu_s).map(|(a, b)| (a + b) / 2.0),
    };
    report(f64::from(lines), files, &phases, batch, raw);
    println!(
        "  floor of the contract : {:>8.2} s  (the line, its transfer and its once key as bare inserts, 1,000 lines a commit); best reachable ratio {:.3}",
        floor.wall_s,
        raw.wall_s / floor.wall_s
    );
    let mib =
        |k: Option<u64>| k.map_or_else(|| "not available".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!(
        "  peak RSS of the batch  : {:>12} (VmHWM reset after seeding; the CSV streamed from a file)",
        mib(batch_rss)
    );
    println!("  peak RSS with seeding  : {:>12} (the whole process before the batch)", mib(seed_rss));
    println!(
        "  RSS after reopening    : {:>12} (the store reopened after seeding, before the raw inserts)",
        mib(start_rss)
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the batch and the raw inserts, on the clock and on the CPU, and their ratios.
fn report(n: f64, files: u64, phases: &Phases, batch: Spent, raw: Spent) {
    let cpu = |s: Spent| s.cpu_s.map_or_else(|| "-".to_string(), |c| format!("{c:.2} s"));
    println!(
        "  batch end to end      : {:>8.2} s  {:>9.0} lines/s  (CSV parsed, persons and cards resolved, transfers, {files} bytes of bank files); CPU {}",
        batch.wall_s,
        n / batch.wall_s,
        cpu(batch)
    );
    println!("    received {:.2} s, paid {:.2} s, bank files {:.2} s", phases.receive_s, phases.pay_s, phases.files_s);
    let mib = |k: Option<u64>| k.map_or_else(|| "-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let [r, p, f] = phases.peaks_kib;
    println!("    peak RSS while receiving {}, paying {}, writing the bank files {}", mib(r), mib(p), mib(f));
    println!(
        "  raw multi-row inserts : {:>8.2} s  {:>9.0} rows/s   (same rows, same width, 1,000 a statement and commit; mean of one run before and one after the batch); CPU {}",
        raw.wall_s,
        n / raw.wall_s,
        cpu(raw)
    );
    println!("  ratio                 : {:>8.3}", raw.wall_s / batch.wall_s);
    if let (Some(b), Some(r)) = (batch.cpu_s, raw.cpu_s) {
        println!("  ratio of CPU time     : {:>8.3} (the same on a machine shared with other work)", r / b);
    }
}
