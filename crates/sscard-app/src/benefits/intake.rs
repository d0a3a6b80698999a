//! Receiving a batch: the envelope first ([`begin`]), then the lines in chunks
//! ([`Intake::push`]), each chunk staged in its own transaction so that memory does not grow
//! with the batch (by a task of its own, while the next chunk is parsed and hashed: one chunk
//! in flight at a time), then [`Intake::finish`], which checks the lines against the envelope and
//! opens the batch for payment. Nothing is paid while receiving: a malformed line or totals
//! that differ from the envelope remove the batch whole.
//!
//! The same `batch_id` again: once the first copy was received whole, the new body is only
//! hashed (SM3 of the envelope and every line) and compared: the same content resumes and
//! answers the first batch, other content is a 409. A copy that was still being received
//! (the process was killed) is replaced by the new one.

use super::super::Ctx;
use sscard_domain::benefits::{self as rules, BatchLine, BatchStatus, CHUNK_LINES, Envelope, RawLine, Tally};
use sscard_domain::error::DomainError;
use sscard_gm::sm3::Sm3Hasher;
use sscard_store::benefits::{BatchRow, LineRow};
use sscard_store::ports::Persons;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::HashSet;

/// A batch being received.
#[derive(Debug)]
pub struct Intake {
    env: Envelope,
    batch: BatchRow,
    /// False when the batch was received before: lines are only hashed and compared.
    staging: bool,
    tally: Tally,
    hasher: Sm3Hasher,
    pending: Vec<LineRow>,
    /// The chunk being staged by a task of its own while the next lines are parsed.
    in_flight: Option<tokio::task::JoinHandle<Staged>>,
}

/// How staging a chunk ended.
#[derive(Debug)]
enum Staged {
    Lines(usize),
    /// A line id of the chunk was taken by an earlier chunk: the chunk, to name the line.
    Taken(Vec<LineRow>),
    Failed(StoreError),
}

fn unknown(what: &'static str, field: &'static str, code: &str) -> StoreError {
    DomainError::invalid(what, field, format!("no {field} {code}")).into()
}

/// Opens the batch of `env` for its lines: a new batch, or the one already under its id.
pub async fn begin(store: &dyn Store, ctx: &Ctx, env: Envelope) -> Result<Intake> {
    rules::may_submit(&ctx.actor, &env.payer)?;
    let mut tx = store.write().await?;
    tx.get_payer(&env.payer).await?.ok_or_else(|| unknown("unknown_payer", "payer", &env.payer))?;
    tx.get_program(&env.program).await?.ok_or_else(|| unknown("unknown_program", "program", &env.program))?;
    let existing = tx.get_batch(&env.payer, &env.batch_id, true).await?;
    let batch = match existing {
        Some(b) if b.status != BatchStatus::Receiving => {
            tx.commit().await?;
            return Ok(Intake::new(env, b, false));
        }
        Some(stale) => {
            // Killed while receiving: nothing of it was paid; the new copy takes its place.
            tx.delete_batch(stale.batch_no).await?;
            new_batch(tx.as_mut(), ctx, &env).await?
        }
        None => new_batch(tx.as_mut(), ctx, &env).await?,
    };
    tx.insert_batch(&batch).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => {
            DomainError::conflict("batch_in_progress", "this batch is being received by another request", None).into()
        }
        other => other,
    })?;
    tx.commit().await?;
    Ok(Intake::new(env, batch, true))
}

async fn new_batch(tx: &mut (impl Persons + ?Sized), ctx: &Ctx, env: &Envelope) -> Result<BatchRow> {
    let batch_no = i64::try_from(tx.next_serial("benefit_batch").await?)
        .map_err(|_| StoreError::corrupt("benefit_batch counter"))?;
    Ok(BatchRow {
        batch_no,
        payer_code: env.payer.clone(),
        batch_id: env.batch_id.clone(),
        program_code: env.program.clone(),
        period: env.period.to_string(),
        declared_lines: i64::try_from(env.declared_lines).unwrap_or(i64::MAX),
        declared_total_fen: env.declared_total.value(),
        content_hash: String::new(),
        status: BatchStatus::Receiving,
        received_lines: 0,
        done_through: 0,
        submitted_by: ctx.actor.name.clone(),
        created_at_ms: ctx.now_ms,
        updated_at_ms: ctx.now_ms,
        finished_at_ms: None,
    })
}

impl Intake {
    fn new(env: Envelope, batch: BatchRow, staging: bool) -> Self {
        let mut hasher = Sm3Hasher::new();
        let head = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\n",
            env.payer, env.batch_id, env.program, env.period, env.declared_lines, env.declared_total
        );
        hasher.update(head.as_bytes());
        Intake {
            env,
            batch,
            staging,
            tally: Tally::default(),
            hasher,
            pending: Vec::with_capacity(CHUNK_LINES),
            in_flight: None,
        }
    }

    /// The batch as it stands (its number, status, counters).
    pub fn batch(&self) -> &BatchRow {
        &self.batch
    }

    /// True when the batch was received before and this body is only compared with it.
    pub fn is_replay(&self) -> bool {
        !self.staging
    }

    /// Lines received so far.
    pub fn lines(&self) -> u64 {
        self.tally.lines
    }

    /// Takes the next lines (in order). A malformed line, or more lines than declared, refuses
    /// the batch: it is removed and the error returned.
    pub async fn push(&mut self, store: &dyn Store, lines: &[RawLine]) -> Result<()> {
        let outcome = self.take(store, lines).await;
        if outcome.is_err() {
            self.abort(store).await?;
        }
        outcome
    }

    async fn take(&mut self, store: &dyn Store, lines: &[RawLine]) -> Result<()> {
        for raw in lines {
            let line = BatchLine::parse(self.tally.lines + 1, raw)?;
            self.tally.add(&self.env, &line)?;
            let canonical = format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\n",
                line.line_id,
                line.ssn,
                line.name.as_str(),
                line.amount.value()
            );
            self.hasher.update(canonical.as_bytes());
            if self.staging {
                self.pending.push(LineRow {
                    batch_no: self.batch.batch_no,
                    seq: i64::try_from(line.seq).unwrap_or(i64::MAX),
                    line_id: line.line_id,
                    ssn: line.ssn.to_string(),
                    name: line.name.as_str().to_string(),
                    amount_fen: line.amount.value(),
                    outcome: None,
                    person_id: None,
                    card_no: None,
                    bank_code: None,
                    account_no: None,
                    end_to_end_id: None,
                    transfer_id: None,
                    decided_at_ms: None,
                });
                if self.pending.len() >= CHUNK_LINES {
                    self.flush(store).await?;
                }
            }
        }
        Ok(())
    }

    /// Stages the pending lines in one transaction, in a task of its own (after the chunk
    /// before it is in); a line id seen before in the batch refuses it.
    async fn flush(&mut self, store: &dyn Store) -> Result<()> {
        self.settle(store).await?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut seen = HashSet::with_capacity(self.pending.len());
        for l in &self.pending {
            if !seen.insert(l.line_id.as_str()) {
                return Err(repeated(l).into());
            }
        }
        // An id of an earlier chunk is found by the unique index (batch, line id): only then
        // is the earlier chunk looked at, to name the line.
        let mut tx = store.write().await?;
        let lines = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_LINES));
        self.in_flight = Some(tokio::spawn(async move {
            match tx.insert_lines(&lines).await {
                Ok(()) => match tx.commit().await {
                    Ok(()) => Staged::Lines(lines.len()),
                    Err(e) => Staged::Failed(e),
                },
                Err(StoreError::Duplicate { .. }) => Staged::Taken(lines),
                Err(e) => Staged::Failed(e),
            }
        }));
        Ok(())
    }

    /// Waits for the chunk being staged, if any: counts its lines or returns its refusal.
    async fn settle(&mut self, store: &dyn Store) -> Result<()> {
        let Some(task) = self.in_flight.take() else { return Ok(()) };
        let staged = task.await.map_err(|e| StoreError::Backend(format!("staging benefit lines stopped: {e}")))?;
        match staged {
            Staged::Lines(n) => {
                self.batch.received_lines += n as i64;
                Ok(())
            }
            Staged::Taken(lines) => Err(self.repeated_from_before(store, &lines).await),
            Staged::Failed(e) => Err(e),
        }
    }

    /// The refusal naming the first line of `lines` whose id an earlier chunk of the batch took.
    async fn repeated_from_before(&self, store: &dyn Store, lines: &[LineRow]) -> StoreError {
        let ids: Vec<String> = lines.iter().map(|l| l.line_id.clone()).collect();
        let taken = async {
            let mut tx = store.read().await?;
            let taken: HashSet<String> = tx.line_ids_taken(self.batch.batch_no, &ids).await?.into_iter().collect();
            tx.commit().await?;
            Ok::<_, StoreError>(taken)
        };
        match taken.await {
            Ok(taken) => match lines.iter().find(|l| taken.contains(&l.line_id)) {
                Some(l) => repeated(l).into(),
                None => StoreError::Backend("a line of the batch was staged twice".into()),
            },
            Err(e) => e,
        }
    }

    /// All lines are in: they must match the envelope (else the batch is removed and refused,
    /// 422 naming the total that differs); a new batch opens for payment; a batch received
    /// before answers itself when the content is the same, 409 when it is not.
    pub async fn finish(mut self, store: &dyn Store, ctx: &Ctx) -> Result<BatchRow> {
        let staged = match self.flush(store).await {
            Ok(()) => self.settle(store).await,
            Err(e) => Err(e),
        };
        if let Err(e) = staged {
            self.abort(store).await?;
            return Err(e);
        }
        if let Some(e) = self.tally.mismatch(&self.env) {
            self.abort(store).await?;
            return Err(e.into());
        }
        let hash = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let mut tx = store.write().await?;
        let mut batch = tx
            .get_batch_by_no(self.batch.batch_no, true)
            .await?
            .ok_or_else(|| StoreError::not_found("batch", &self.env.batch_id))?;
        if !self.staging {
            tx.commit().await?;
            if batch.content_hash != hash {
                return Err(DomainError::conflict(
                    "batch_id_reused",
                    format!("batch {} was already submitted with other content", batch.batch_id),
                    Some(batch.status.as_str().to_string()),
                )
                .into());
            }
            return Ok(batch);
        }
        batch.content_hash = hash;
        batch.status = BatchStatus::Processing;
        batch.received_lines = self.batch.received_lines;
        batch.updated_at_ms = ctx.now_ms;
        tx.update_batch(&batch).await?;
        let subject = super::super::Subject {
            entity: "benefit_batch",
            entity_id: &batch.batch_id,
            person_id: "",
            region: String::new(),
        };
        let payload = serde_json::json!({ "batch_no": batch.batch_no, "payer": batch.payer_code, "lines": batch.received_lines, "declared_total_fen": batch.declared_total_fen });
        super::super::record(tx.as_mut(), ctx, "benefits.batch_received", &subject, payload).await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// Removes a batch that is being received (refused, or its upload broke off); a batch
    /// received before is left as it is.
    pub async fn abort(&mut self, store: &dyn Store) -> Result<()> {
        self.pending.clear();
        if let Some(task) = self.in_flight.take() {
            // Whatever it staged goes with the batch.
            let _ = task.await;
        }
        if !self.staging {
            return Ok(());
        }
        let mut tx = store.write().await?;
        if let Some(b) = tx.get_batch_by_no(self.batch.batch_no, true).await?
            && b.status == BatchStatus::Receiving
        {
            tx.delete_batch(b.batch_no).await?;
        }
        tx.commit().await
    }
}

fn repeated(l: &LineRow) -> DomainError {
    DomainError::invalid(
        "bad_line",
        "line_id",
        format!("line {}: line_id: {} appears twice in the batch", l.seq, l.line_id),
    )
}
