//! The job store: one SQLite table, in WAL mode, so an accepted job survives any crash.
//!
//! A job is `queued`, then `running` (a worker claimed it), then `done` (its proof file was
//! written, atomically, before the row says so) or `failed` (with the error). On start,
//! jobs left `running` by a crash go back to `queued`, or to `failed` once they have
//! been started [`MAX_ATTEMPTS`] times (a job that kills the server is not retried forever).

use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::StoreError;

/// How many times a job may be started before a crash during it counts as its failure.
pub const MAX_ATTEMPTS: i64 = 3;

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// A worker is proving it.
    Running,
    /// Its proof is ready.
    Done,
    /// It failed; `error` says why.
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "running" => Status::Running,
            "done" => Status::Done,
            "failed" => Status::Failed,
            _ => Status::Queued,
        }
    }
}

/// One prove job as the API reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Its id (32 hex digits).
    pub id: String,
    /// The model id (a directory under `--models`).
    pub model: String,
    /// Its state.
    pub status: Status,
    /// The step in progress or last reached ("queued", "loading proving key", "proving"...).
    pub stage: String,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker started it.
    pub attempts: i64,
    /// When it was accepted (ms since the Unix epoch).
    pub created_ms: i64,
    /// When a worker last started it.
    pub started_ms: Option<i64>,
    /// When it ended.
    pub finished_ms: Option<i64>,
    /// The input sample (EZKL's format), kept for the worker.
    #[serde(skip)]
    pub input: String,
    /// Which sample of the input to prove.
    #[serde(skip)]
    pub row: i64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const COLUMNS: &str =
    "id, model, status, stage, error, attempts, created_ms, started_ms, finished_ms, input, row";

fn job_of(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        model: r.get(1)?,
        status: Status::parse(&r.get::<_, String>(2)?),
        stage: r.get(3)?,
        error: r.get(4)?,
        attempts: r.get(5)?,
        created_ms: r.get(6)?,
        started_ms: r.get(7)?,
        finished_ms: r.get(8)?,
        input: r.get(9)?,
        row: r.get(10)?,
    })
}

/// The job `id`, read in `c` (a connection or a transaction).
fn job_by_id(c: &Connection, id: &str) -> rusqlite::Result<Option<Job>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        job_of,
    )
    .optional()
}

/// What [`Store::insert`] found.
#[derive(Debug)]
pub enum Insert {
    /// Accepted.
    Accepted(Job),
    /// The queue already holds `limit` unfinished jobs.
    Full {
        /// The limit.
        limit: usize,
    },
}

/// Counts of jobs by state.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    /// Waiting.
    pub queued: i64,
    /// Being proved.
    pub running: i64,
    /// Proved.
    pub done: i64,
    /// Failed.
    pub failed: i64,
}

/// The job store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // WAL with synchronous=FULL: a committed job is on disk before the client hears 202.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY,
                model TEXT NOT NULL,
                status TEXT NOT NULL,
                stage TEXT NOT NULL,
                error TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_ms INTEGER NOT NULL,
                started_ms INTEGER,
                finished_ms INTEGER,
                input TEXT NOT NULL,
                row INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);",
        )?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&mut conn)?)
    }

    /// Requeues the jobs a crash left running (or fails those started too often); returns
    /// (requeued, failed).
    pub fn recover(&self) -> Result<(usize, usize), StoreError> {
        self.with(|c| {
            let failed = c.execute(
                "UPDATE jobs SET status = 'failed', finished_ms = ?1,
                    error = 'the server stopped during this job ' || attempts || ' times; not retried',
                    stage = 'failed'
                 WHERE status = 'running' AND attempts >= ?2",
                params![now_ms(), MAX_ATTEMPTS],
            )?;
            let requeued = c.execute(
                "UPDATE jobs SET status = 'queued', stage = 'queued (requeued after a restart)'
                 WHERE status = 'running'",
                [],
            )?;
            Ok((requeued, failed))
        })
    }

    /// Accepts a job unless `limit` jobs are already queued or running.
    pub fn insert(
        &self,
        model: &str,
        input: &str,
        row: i64,
        limit: usize,
    ) -> Result<Insert, StoreError> {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let id = hex::encode(id);
        self.with(|c| {
            let tx = c.transaction()?;
            let pending: i64 = tx.query_row(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )?;
            if pending >= limit as i64 {
                return Ok(Insert::Full { limit });
            }
            tx.execute(
                "INSERT INTO jobs (id, model, status, stage, created_ms, input, row)
                 VALUES (?1, ?2, 'queued', 'queued', ?3, ?4, ?5)",
                params![id, model, now_ms(), input, row],
            )?;
            let job = job_by_id(&tx, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.commit()?;
            Ok(Insert::Accepted(job))
        })
    }

    /// The job `id`.
    pub fn get(&self, id: &str) -> Result<Option<Job>, StoreError> {
        self.with(|c| job_by_id(c, id))
    }

    /// Claims the oldest queued job for a worker.
    pub fn claim(&self) -> Result<Option<Job>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE status = 'queued' ORDER BY rowid LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE jobs SET status = 'running', stage = 'starting', attempts = attempts + 1,
                    started_ms = ?2 WHERE id = ?1",
                params![id, now_ms()],
            )?;
            let job = job_by_id(&tx, &id)?;
            tx.commit()?;
            Ok(job)
        })
    }

    /// Records the step a running job reached.
    pub fn set_stage(&self, id: &str, stage: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET stage = ?2 WHERE id = ?1 AND status = 'running'",
                params![id, stage],
            )
            .map(|_| ())
        })
    }

    /// Marks a job done (its proof file is already written) or failed.
    pub fn finish(&self, id: &str, error: Option<&str>) -> Result<(), StoreError> {
        let (status, stage) = match error {
            None => (Status::Done, "done"),
            Some(_) => (Status::Failed, "failed"),
        };
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET status = ?2, stage = ?3, error = ?4, finished_ms = ?5 WHERE id = ?1",
                params![id, status.as_str(), stage, error, now_ms()],
            )
            .map(|_| ())
        })
    }

    /// How many queued jobs a worker takes before the queued job `id`.
    pub fn ahead_of(&self, id: &str) -> Result<i64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued'
                   AND rowid < (SELECT rowid FROM jobs WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )
        })
    }

    /// The mean time from start to done of `model`'s last 20 finished jobs, in ms.
    pub fn mean_run_ms(&self, model: &str) -> Result<Option<f64>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT AVG(finished_ms - started_ms) FROM (
                   SELECT finished_ms, started_ms FROM jobs
                   WHERE model = ?1 AND status = 'done' AND started_ms IS NOT NULL
                   ORDER BY finished_ms DESC LIMIT 20)",
                [model],
                |r| r.get(0),
            )
        })
    }

    /// How many jobs are queued or running.
    pub fn pending(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )
        })
    }

    /// How many jobs are in each state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT status, COUNT(*) FROM jobs GROUP BY status")?;
            let mut counts = Counts::default();
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (status, n) = row?;
                match Status::parse(&status) {
                    Status::Queued => counts.queued = n,
                    Status::Running => counts.running = n,
                    Status::Done => counts.done = n,
                    Status::Failed => counts.failed = n,
                }
            }
            Ok(counts)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        (dir, store)
    }

    fn accepted(insert: Insert) -> Job {
        match insert {
            Insert::Accepted(job) => job,
            Insert::Full { limit } => panic!("refused at limit {limit}"),
        }
    }

    #[test]
    fn jobs_are_claimed_oldest_first_and_once() {
        let (_dir, store) = store();
        let a = accepted(store.insert("m", "{}", 0, 10).unwrap());
        let b = accepted(store.insert("m", "{}", 1, 10).unwrap());
        assert_eq!(a.status, Status::Queued);
        assert_eq!(store.claim().unwrap().unwrap().id, a.id);
        let claimed_b = store.claim().unwrap().unwrap();
        assert_eq!((claimed_b.id.as_str(), claimed_b.row), (b.id.as_str(), 1));
        assert_eq!(claimed_b.attempts, 1);
        assert_eq!(claimed_b.status, Status::Running);
        assert!(store.claim().unwrap().is_none());
    }

    #[test]
    fn the_limit_counts_queued_and_running_jobs() {
        let (_dir, store) = store();
        let a = accepted(store.insert("m", "{}", 0, 2).unwrap());
        accepted(store.insert("m", "{}", 0, 2).unwrap());
        store.claim().unwrap();
        assert!(matches!(
            store.insert("m", "{}", 0, 2).unwrap(),
            Insert::Full { limit: 2 }
        ));
        store.finish(&a.id, None).unwrap();
        accepted(store.insert("m", "{}", 0, 2).unwrap());
        let c = store.counts().unwrap();
        assert_eq!((c.queued, c.running, c.done, c.failed), (2, 0, 1, 0));
    }

    #[test]
    fn a_reopened_store_requeues_interrupted_jobs_until_they_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        let id = {
            let store = Store::open(&path).unwrap();
            let job = accepted(
                store
                    .insert("m", r#"{"input_data": [[1]]}"#, 0, 10)
                    .unwrap(),
            );
            store.claim().unwrap();
            store.set_stage(&job.id, "proving").unwrap();
            job.id
        };
        for attempt in 1..MAX_ATTEMPTS {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.recover().unwrap(), (1, 0), "attempt {attempt}");
            let job = store.get(&id).unwrap().unwrap();
            assert_eq!(job.status, Status::Queued);
            assert_eq!(job.input, r#"{"input_data": [[1]]}"#);
            let claimed = store.claim().unwrap().unwrap();
            assert_eq!(claimed.attempts, attempt + 1);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.recover().unwrap(), (0, 1));
        let job = store.get(&id).unwrap().unwrap();
        assert_eq!(job.status, Status::Failed);
        assert!(job.error.unwrap().contains("3 times"));
        assert!(job.finished_ms.is_some());
        assert_eq!(store.recover().unwrap(), (0, 0));
    }

    #[test]
    fn finishing_records_the_outcome_and_stage_changes_only_running_jobs() {
        let (_dir, store) = store();
        let a = accepted(store.insert("m", "{}", 0, 10).unwrap());
        store.set_stage(&a.id, "proving").unwrap();
        assert_eq!(store.get(&a.id).unwrap().unwrap().stage, "queued");
        store.claim().unwrap();
        store.set_stage(&a.id, "proving").unwrap();
        assert_eq!(store.get(&a.id).unwrap().unwrap().stage, "proving");
        store.finish(&a.id, Some("input out of range")).unwrap();
        let job = store.get(&a.id).unwrap().unwrap();
        assert_eq!(job.status, Status::Failed);
        assert_eq!(job.error.as_deref(), Some("input out of range"));
        assert!(store.get("nope").unwrap().is_none());
    }

    #[test]
    fn queue_position_and_mean_run_time() {
        let (_dir, store) = store();
        let ids: Vec<String> = (0..3)
            .map(|_| accepted(store.insert("m", "{}", 0, 10).unwrap()).id)
            .collect();
        assert_eq!(store.ahead_of(&ids[2]).unwrap(), 2);
        assert_eq!(store.mean_run_ms("m").unwrap(), None);
        let first = store.claim().unwrap().unwrap();
        assert_eq!(store.ahead_of(&ids[2]).unwrap(), 1);
        store
            .with(|c| {
                c.execute(
                    "UPDATE jobs SET status = 'done', started_ms = 1000, finished_ms = 1400 WHERE id = ?1",
                    [&first.id],
                )
            })
            .unwrap();
        assert_eq!(store.mean_run_ms("m").unwrap(), Some(400.0));
        assert_eq!(store.mean_run_ms("other").unwrap(), None);
    }
}
