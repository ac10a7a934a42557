//! The worker pool: a fixed number of threads, each claiming the oldest queued job, proving
//! it and writing its proof file atomically before the store marks it done.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use zkinfer_pipeline::error::one_line;
use zkinfer_pipeline::{DeviceChoice, Input, Observer, Salt};

use crate::models::Models;
use crate::store::{Job, Store};

/// Wakes idle workers when a job arrives, tells them to stop, and wakes the requests
/// waiting for a job to end.
#[derive(Debug, Default)]
pub struct Signal {
    /// How many jobs were queued since start: a worker that saw no job waits for it to move.
    queued: Mutex<u64>,
    cond: Condvar,
    stop: AtomicBool,
    /// Notified whenever a job ends (`GET /jobs/{id}?wait=S` listens).
    pub finished: tokio::sync::Notify,
}

impl Signal {
    /// A job was queued.
    pub fn job_queued(&self) {
        if let Ok(mut n) = self.queued.lock() {
            *n += 1;
        }
        self.cond.notify_one();
    }

    /// Stop after the current job.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cond.notify_all();
    }

    /// Whether [`Signal::stop`] was called.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The count of queued jobs, read before looking for work.
    fn seen(&self) -> u64 {
        self.queued.lock().map_or(0, |n| *n)
    }

    /// Waits until a job is queued after `seen` was read, a stop, or a timeout (a job
    /// requeued at start is found by the next look).
    fn wait_past(&self, seen: u64) {
        if let Ok(n) = self.queued.lock() {
            let _ = self
                .cond
                .wait_timeout_while(n, Duration::from_secs(1), |n| {
                    *n == seen && !self.stopping()
                });
        }
    }
}

/// What a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// The job store.
    pub store: Arc<Store>,
    /// The models.
    pub models: Arc<Models>,
    /// Where proof files go (`<id>.json`).
    pub proofs: PathBuf,
    /// Wake-ups and stop.
    pub signal: Arc<Signal>,
}

/// Records a running job's steps as its stage.
struct StageObserver<'a> {
    store: &'a Store,
    id: &'a str,
}

impl Observer for StageObserver<'_> {
    fn begin(&self, label: &str) {
        let _ = self.store.set_stage(self.id, label);
    }
}

/// Starts `n` workers.
pub fn start(n: usize, ctx: &WorkerContext) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let ctx = ctx.clone();
            std::thread::Builder::new()
                .name(format!("prover-{i}"))
                .spawn(move || work(&ctx))
        })
        .filter_map(Result::ok)
        .collect()
}

fn work(ctx: &WorkerContext) {
    while !ctx.signal.stopping() {
        let seen = ctx.signal.seen();
        match ctx.store.claim() {
            Ok(Some(job)) => {
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| prove_job(ctx, &job)))
                    .unwrap_or_else(|_| Err("internal error: the prover panicked".to_string()));
                match &outcome {
                    Ok(()) => eprintln!("job {} ({}): done", job.id, job.model),
                    Err(e) => eprintln!("job {} ({}): failed: {e}", job.id, job.model),
                }
                record(ctx, &job.id, outcome.err().as_deref());
                ctx.signal.finished.notify_waiters();
            }
            Ok(None) => ctx.signal.wait_past(seen),
            Err(e) => {
                eprintln!("worker: {e}");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// Records a job's end, retrying a failing database for a while: a job left `running`
/// would wait for the next restart.
fn record(ctx: &WorkerContext, id: &str, error: Option<&str>) {
    let mut delay = Duration::from_millis(100);
    for _ in 0..8 {
        match ctx.store.finish(id, error) {
            Ok(()) => return,
            Err(e) => {
                eprintln!("job {id}: recording its end: {e}; retrying in {delay:?}");
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
    }
    eprintln!("job {id}: its end could not be recorded; it runs again at the next start");
}

/// Proves `job` and writes its proof file; the error text on failure.
fn prove_job(ctx: &WorkerContext, job: &Job) -> Result<(), String> {
    let obs = StageObserver {
        store: &ctx.store,
        id: &job.id,
    };
    let model = ctx
        .models
        .proving(&job.model, &obs)
        .map_err(|e| one_line(&e))?;
    let _ = ctx.store.set_stage(&job.id, "running the model");
    let input = Input::Json {
        text: &job.input,
        row: usize::try_from(job.row).unwrap_or(0),
        origin: "the job's input",
    };
    let proved = model
        .prove(&input, &Salt::Fresh, DeviceChoice::Auto, &obs)
        .map_err(|e| one_line(&e))?;
    let _ = ctx.store.set_stage(&job.id, "writing the proof");
    let doc = serde_json::json!({
        "proof": proved.proof,
        "output": proved.output,
        "salt": proved.fresh_salt,
        "prove_s": proved.prove_s,
    });
    let path = ctx.proofs.join(format!("{}.json", job.id));
    zkinfer_ir::artifact::write_atomic(&path, doc.to_string().as_bytes()).map_err(|e| e.to_string())
}
