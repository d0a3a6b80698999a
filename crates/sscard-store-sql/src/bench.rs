//! The lookup part of `sscard bench store`: finding a person by SSN through the blind index
//! (HMAC-SM3 of the number, the `ssn_index` unique index, four SM4-GCM opens) against the
//! lookup it replaced (the clear `ssn` unique index, no decryption), on the same database in
//! one run. The clear baseline is a scratch copy of the persons in clear (a benchmark's
//! throw-away database only) read with the same parser and one read transaction per lookup,
//! as the port does.

use crate::bulk::{self, Section};
use crate::tx::{CARD_INSERT_COLS, ECARD_COLS, PERSON_INSERT_COLS, card_values, ecard_values, person_values};
use crate::{Db, Dialect, SqlStore, rows};
use sqlx::AssertSqlSafe;
use sscard_domain::card::Card;
use sscard_domain::ecard::Ecard;
use sscard_domain::person::Person;
use sscard_store::model::Page;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::time::Instant;

/// Writes holders (each a person, their card and their e-card) in one transaction of
/// multi-row inserts, sealed and blind-indexed exactly as `insert_person`, `insert_card` and
/// `insert_ecard` write them (the same row builders): how benchmarks seed millions of persons.
/// The commit is not waited for on disk on PostgreSQL (`synchronous_commit` off for this
/// transaction only): a seed that a crash lost is simply seeded again.
pub async fn insert_holders(store: &SqlStore, holders: &[(Person, Card, Ecard)]) -> Result<()> {
    let mut persons = Section::new(format!("INSERT INTO persons ({PERSON_INSERT_COLS})"), 15, "", "person");
    let mut cards = Section::new(format!("INSERT INTO cards ({CARD_INSERT_COLS})"), 21, "", "card");
    let mut ecards = Section::new(format!("INSERT INTO ecards ({ECARD_COLS})"), 7, "", "e-card");
    for (p, c, e) in holders {
        persons.row(person_values(&store.vault, p));
        cards.row(card_values(&store.vault, c));
        ecards.row(ecard_values(e));
    }
    let mut tx = store.pool.begin_with(store.dialect.begin_write()).await.db()?;
    if store.dialect == Dialect::Postgres {
        sqlx::raw_sql("SET LOCAL synchronous_commit = off").execute(&mut *tx).await.db()?;
    }
    bulk::run(&mut tx, store.dialect, vec![persons, cards, ecards]).await?;
    tx.commit().await.db()
}

/// An index a bulk load drops first and builds again after: its name and its definition.
pub struct DroppedIndex {
    pub name: String,
    pub definition: String,
}

/// The tables a holder seed writes (see [`insert_holders`]).
const HOLDER_TABLES: &str = "'persons', 'cards', 'ecards'";

/// PostgreSQL: drops the secondary indexes of the holder tables that no constraint owns (a
/// primary key or a UNIQUE column stays), so that a seed of millions appends heap rows instead
/// of inserting each into a dozen B-trees on random keys (blind indexes, random e-card ids),
/// which outgrow memory and turn every insert into random reads. [`build_indexes`] makes them
/// again, each from its own definition. Nothing on SQLite.
pub async fn drop_secondary_indexes(store: &SqlStore) -> Result<Vec<DroppedIndex>> {
    if store.dialect != Dialect::Postgres {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT CAST(i.indexrelid::regclass AS TEXT) AS name, pg_get_indexdef(i.indexrelid) AS definition \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relname IN ({HOLDER_TABLES}) AND t.relnamespace = 'public'::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
    );
    let found = sqlx::query(AssertSqlSafe(sql)).fetch_all(store.pool()).await.db()?;
    let mut dropped = Vec::with_capacity(found.len());
    for row in &found {
        let index = DroppedIndex { name: rows::text(row, "name")?, definition: rows::text(row, "definition")? };
        // The name comes from the catalog (regclass quotes it when it must be).
        sqlx::raw_sql(AssertSqlSafe(format!("DROP INDEX {}", index.name))).execute(store.pool()).await.db()?;
        dropped.push(index);
    }
    Ok(dropped)
}

/// Builds the indexes [`drop_secondary_indexes`] dropped, one after the other, each with a
/// gigabyte to sort in, and reports each one's time.
pub async fn build_indexes(
    store: &SqlStore,
    dropped: &[DroppedIndex],
    progress: &mut (dyn FnMut(&str, f64) + Send),
) -> Result<()> {
    for index in dropped {
        let started = Instant::now();
        let mut tx = store.pool.begin().await.db()?;
        sqlx::raw_sql("SET LOCAL maintenance_work_mem = '1GB'").execute(&mut *tx).await.db()?;
        sqlx::raw_sql(AssertSqlSafe(index.definition.clone())).execute(&mut *tx).await.db()?;
        tx.commit().await.db()?;
        progress(&index.name, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// PostgreSQL: reads every table and index of the database once through the OS (the
/// `pg_prewarm` extension, mode `read`), so that timing starts with the database in the
/// operating system's page cache as far as memory allows, as on a server that has been
/// serving for a while. Answers the bytes read; 0 on SQLite.
pub async fn prewarm(store: &SqlStore) -> Result<i64> {
    if store.dialect != Dialect::Postgres {
        return Ok(0);
    }
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm").execute(store.pool()).await.db()?;
    let sql = "SELECT CAST(COALESCE(SUM(pg_prewarm(c.oid, 'read')), 0) * current_setting('block_size')::bigint AS BIGINT) \
               AS bytes FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')";
    let row = sqlx::query(sql).fetch_one(store.pool()).await.db()?;
    rows::int(&row, "bytes")
}

/// Updates the planner's statistics (`ANALYZE`), as after any bulk load.
pub async fn analyze(store: &SqlStore) -> Result<()> {
    sqlx::raw_sql("ANALYZE").execute(store.pool()).await.db()?;
    Ok(())
}

/// The database's size on disk, in bytes (PostgreSQL: `pg_database_size`; SQLite: its pages;
/// the write-ahead log left out on both).
pub async fn database_bytes(store: &SqlStore) -> Result<i64> {
    let sql = match store.dialect {
        Dialect::Postgres => "SELECT pg_database_size(current_database()) AS bytes",
        Dialect::Sqlite => "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
    };
    let row = sqlx::query(sql).fetch_one(store.pool()).await.db()?;
    rows::int(&row, "bytes")
}

/// The process ids of the PostgreSQL server processes serving this store's database (none on
/// SQLite, which runs in the process itself), so that a benchmark can count the database's CPU
/// time with its own.
pub async fn backend_pids(store: &SqlStore) -> Result<Vec<i64>> {
    if store.dialect != Dialect::Postgres {
        return Ok(Vec::new());
    }
    let sql = "SELECT CAST(pid AS BIGINT) AS pid FROM pg_stat_activity WHERE datname = current_database()";
    let found = sqlx::query(sql).fetch_all(store.pool()).await.db()?;
    found.iter().map(|r| rows::int(r, "pid")).collect()
}

/// Lookups per second both ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookupRates {
    pub lookups: u64,
    pub clear_per_s: f64,
    pub blind_per_s: f64,
}

const SCRATCH: &str = "CREATE TABLE IF NOT EXISTS bench_clear_persons (id TEXT PRIMARY KEY, ssn TEXT NOT NULL UNIQUE, \
    doc_type TEXT NOT NULL, doc_number TEXT NOT NULL, name TEXT NOT NULL, sex TEXT NOT NULL, birth_date TEXT NOT NULL, \
    region TEXT NOT NULL, guardian_id TEXT, relationship_proof TEXT, pension_recorded BIGINT NOT NULL, \
    created_at_ms BIGINT NOT NULL)";

/// Copies the persons (at most 10,000) in clear into the scratch table: their SSNs.
async fn clear_copy(store: &SqlStore) -> Result<Vec<String>> {
    sqlx::raw_sql(SCRATCH).execute(store.pool()).await.db()?;
    let mut tx = store.read().await?;
    let persons = tx.list_persons(&Page { after: None, limit: 10_000 }).await?;
    tx.commit().await?;
    let mut ssns = Vec::with_capacity(persons.len());
    for p in persons {
        sqlx::query(
            "INSERT INTO bench_clear_persons (id, ssn, doc_type, doc_number, name, sex, birth_date, region, \
             pension_recorded, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(p.id.as_str())
        .bind(p.ssn.as_str())
        .bind(p.doc_type.as_str())
        .bind(p.doc_number.as_str())
        .bind(p.name.as_str())
        .bind(p.sex.as_str())
        .bind(rows::date_text(p.birth_date))
        .bind(p.region.to_string())
        .bind(p.created_at_ms)
        .execute(store.pool())
        .await
        .db()?;
        ssns.push(p.ssn.as_str().to_string());
    }
    Ok(ssns)
}

async fn clear_lookup(store: &SqlStore, ssn: &str) -> Result<String> {
    let mut tx = store.pool().begin().await.db()?;
    let sql = format!("SELECT {} FROM bench_clear_persons WHERE ssn = $1", crate::tx::PERSON_COLS);
    let row = sqlx::query(AssertSqlSafe(sql)).bind(ssn).fetch_optional(&mut *tx).await.db()?;
    tx.commit().await.db()?;
    let row = row.ok_or_else(|| StoreError::not_found("person", ssn))?;
    Ok(rows::person_in_clear(&row)?.id)
}

async fn blind_lookup(store: &SqlStore, ssn: &str) -> Result<String> {
    let mut tx = store.read().await?;
    let found = tx.find_person_by_ssn(ssn).await?;
    tx.commit().await?;
    Ok(found.ok_or_else(|| StoreError::not_found("person", ssn))?.id)
}

/// Times `lookups` lookups each way over the store's persons, alternating in three rounds so
/// drift on a shared machine hits both alike; each lookup must find its person.
pub async fn ssn_lookups(store: &SqlStore, lookups: u64) -> Result<LookupRates> {
    let ssns = clear_copy(store).await?;
    if ssns.is_empty() {
        return Err(StoreError::Backend("the benchmark database holds no persons".into()));
    }
    let per_round = (lookups / 3).max(1);
    let (mut clear_s, mut blind_s) = (0.0, 0.0);
    for _ in 0..3 {
        let started = Instant::now();
        for i in 0..per_round {
            clear_lookup(store, &ssns[i as usize % ssns.len()]).await?;
        }
        clear_s += started.elapsed().as_secs_f64();
        let started = Instant::now();
        for i in 0..per_round {
            blind_lookup(store, &ssns[i as usize % ssns.len()]).await?;
        }
        blind_s += started.elapsed().as_secs_f64();
    }
    let n = per_round * 3;
    sqlx::raw_sql("DROP TABLE bench_clear_persons").execute(store.pool()).await.db()?;
    Ok(LookupRates { lookups: n, clear_per_s: n as f64 / clear_s, blind_per_s: n as f64 / blind_s })
}
