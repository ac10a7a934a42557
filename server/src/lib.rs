//! zkinfer's proving service: `zkinfer serve --models DIR`.
//!
//! - An HTTP API ([`api`]) to submit prove jobs, poll them, fetch proofs and verify.
//! - Jobs persist in SQLite ([`store`]): a restart loses no accepted job, resumes the queued
//!   ones, and requeues the ones a crash interrupted.
//! - A bounded pool of prover threads ([`worker`]) and a bounded queue (429 when full).
//! - SIGTERM or Ctrl-C: stop accepting, let running jobs finish (up to a grace period),
//!   leave queued ones for the next start.

pub mod api;
pub mod error;
pub mod models;
pub mod store;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::{ApiError, ServeError, StoreError};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The directory whose subdirectories are set-up models.
    pub models: PathBuf,
    /// The address to listen on.
    pub addr: SocketAddr,
    /// Prover threads.
    pub workers: usize,
    /// Unfinished (queued or running) jobs allowed before new ones get 429.
    pub queue_limit: usize,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Require `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Where the job database and proof files live (default: `<models>/.zkinfer-serve`).
    pub data: Option<PathBuf>,
    /// How long SIGTERM waits for running jobs before exiting (they are requeued next start).
    pub grace: Duration,
}

/// Runs the server until SIGTERM or Ctrl-C; `ready` is told the bound address once it
/// listens (the CLI prints it).
pub fn serve(config: &ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    if !config.models.is_dir() {
        return Err(ServeError::Models {
            path: config.models.display().to_string(),
            reason: "not a directory (it should hold one directory per model, each with model.zkm, pk.bin, vk.bin and srs.bin)".into(),
        });
    }
    let data = config
        .data
        .clone()
        .unwrap_or_else(|| config.models.join(".zkinfer-serve"));
    let proofs = data.join("proofs");
    std::fs::create_dir_all(&proofs)?;
    let store = Arc::new(store::Store::open(&data.join("jobs.sqlite3"))?);
    let (requeued, failed) = store.recover()?;
    if requeued + failed > 0 {
        eprintln!(
            "recovered after an unclean stop: {requeued} interrupted job(s) requeued, {failed} failed after {} attempts",
            store::MAX_ATTEMPTS
        );
    }
    let models = Arc::new(models::Models::new(&config.models));
    let signal = Arc::new(worker::Signal::default());
    let ctx = worker::WorkerContext {
        store: store.clone(),
        models: models.clone(),
        proofs: proofs.clone(),
        signal: signal.clone(),
    };
    let workers = config.workers.max(1);
    let handles = worker::start(workers, &ctx);
    let state = Arc::new(api::AppState {
        store,
        models,
        signal: signal.clone(),
        proofs,
        queue_limit: config.queue_limit.max(1),
        max_body: config.max_body,
        token: config.token.clone(),
        workers,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.addr.to_string(),
                source,
            })?;
        ready(listener.local_addr()?);
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok::<(), ServeError>(())
    });
    // Stop taking jobs; wait for the running ones up to the grace period.
    signal.stop();
    let deadline = Instant::now() + config.grace;
    while handles.iter().any(|h| !h.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let unfinished = handles.iter().filter(|h| !h.is_finished()).count();
    if unfinished > 0 {
        eprintln!("{unfinished} job(s) still running after the grace period: they restart at the next start");
    } else {
        for h in handles {
            let _ = h.join();
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("shutting down: no new requests; waiting for running jobs");
}
