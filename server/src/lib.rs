//! zkinfer's proving service: `zkinfer serve --models DIR`.
//!
//! - An HTTP API ([`api`]) to submit prove jobs, poll them, fetch proofs and verify.
//! - Jobs persist in SQLite ([`store`]): a restart loses no accepted job, resumes the queued
//!   ones, and requeues the ones a crash interrupted.
//! - A bounded pool of prover threads ([`worker`]) and a bounded queue (429 when full).
//! - SIGTERM or Ctrl-C: stop accepting, let running jobs finish (up to a grace period),
//!   leave queued ones for the next start.
//!
//! ```no_run
//! use std::time::Duration;
//! use zkinfer_server::{serve, ServeConfig};
//!
//! // Serves every set-up model under ./models until SIGTERM or Ctrl-C.
//! let config = ServeConfig {
//!     models: "models".into(),
//!     addr: "127.0.0.1:8080".parse()?,
//!     workers: 1,
//!     queue_limit: 64,
//!     max_body: 8 << 20,
//!     token: None,
//!     data: None,
//!     grace: Duration::from_secs(60),
//! };
//! serve(&config, |addr| println!("listening on {addr}"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
///
/// Order matters: the data directory is locked (one server per job database) and the port
/// bound before any job is touched, so a second server started by mistake changes nothing.
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
    private_dir(&data)?;
    private_dir(&proofs)?;
    let _lock = lock_data(&data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(config.addr))
        .map_err(|source| ServeError::Bind {
            addr: config.addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr()?;

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
    let state = Arc::new(api::AppState::new(
        store,
        models,
        signal.clone(),
        proofs,
        config,
        workers,
    ));
    ready(addr);
    let stop = signal.clone();
    let served = runtime.block_on(async move {
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(shutdown_signal(stop))
            .await
    });
    // Workers already stopped taking jobs; wait for the running ones up to the grace period.
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
    Ok(served?)
}

/// Creates `dir` readable by its owner only (job inputs, proofs and salts live there).
fn private_dir(dir: &std::path::Path) -> Result<(), ServeError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| ServeError::Data {
        path: dir.display().to_string(),
        source,
    })
}

/// An exclusive lock on `DATA/lock`, held while the server runs.
fn lock_data(data: &std::path::Path) -> Result<std::fs::File, ServeError> {
    let path = data.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ServeError::Data {
            path: path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Locked {
            path: data.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(ServeError::Data {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Resolves at the first SIGTERM or Ctrl-C, after telling the workers to take no new job;
/// a second one exits at once (running jobs then restart at the next start).
async fn shutdown_signal(signal: Arc<worker::Signal>) {
    next_signal().await;
    signal.stop();
    signal.finished.notify_waiters();
    eprintln!("shutting down: no new requests or jobs; waiting for running jobs (signal again to stop now)");
    tokio::spawn(async {
        next_signal().await;
        eprintln!("stopping now: interrupted jobs restart at the next start");
        std::process::exit(1);
    });
}

async fn next_signal() {
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
}
