//! The HTTP API: submit a prove job, poll it, fetch its proof, verify a proof, list models.
//! Every error is `{"error": {"code", "message", "status"}}`; `/openapi.json` describes it all.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use zkinfer_ir::proof_file::ProofFile;
use zkinfer_pipeline::{verify_proof, ModelDir, PipelineError, Quiet};

use crate::error::ApiError;
use crate::models::Models;
use crate::store::{Insert, Job, Status, Store};
use crate::worker::Signal;
use crate::ServeConfig;
use zkinfer_pipeline::error::one_line;

/// The OpenAPI 3 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The job store.
    pub store: Arc<Store>,
    /// The models.
    pub models: Arc<Models>,
    /// Wakes the workers.
    pub signal: Arc<Signal>,
    /// Where proof files are.
    pub proofs: std::path::PathBuf,
    /// Unfinished jobs allowed before 429.
    pub queue_limit: usize,
    /// Largest request body in bytes.
    pub max_body: usize,
    /// The bearer token every request but `/health` and `/openapi.json` must carry.
    pub token: Option<String>,
    /// How many workers prove.
    pub workers: usize,
    /// Bounds the model runs and verifications requests make at once (about one per core),
    /// so a flood of requests queues instead of starting hundreds of threads.
    pub checks: tokio::sync::Semaphore,
}

impl AppState {
    /// The state of a server run with `config` and `workers` provers.
    pub fn new(
        store: Arc<Store>,
        models: Arc<Models>,
        signal: Arc<Signal>,
        proofs: std::path::PathBuf,
        config: &ServeConfig,
        workers: usize,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            store,
            models,
            signal,
            proofs,
            queue_limit: config.queue_limit.max(1),
            max_body: config.max_body,
            token: config.token.clone(),
            workers,
            checks: tokio::sync::Semaphore::new(cores),
        }
    }

    /// Runs `f` off the async threads, at most one per core at a time.
    async fn checked<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .checks
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the server is shutting down"))?;
        blocking(f).await
    }
}

type Shared = State<Arc<AppState>>;

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    let protected = Router::new()
        .route("/models", get(list_models))
        .route("/jobs", post(submit))
        .route("/jobs/{id}", get(job_status))
        .route("/jobs/{id}/proof", get(job_proof))
        .route("/verify", post(verify))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .merge(protected)
        .fallback(|| async {
            ApiError::not_found("no_route", "no such endpoint; GET /openapi.json lists them")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; GET /openapi.json lists them",
            )
        })
        .with_state(state)
}

/// Equal-length, constant-time comparison of two tokens.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authorize(State(s): Shared, req: Request, next: Next) -> Response {
    if let Some(token) = &s.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        if !given.is_some_and(|g| same_token(g.as_bytes(), token.as_bytes())) {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server needs `Authorization: Bearer <token>`",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    next.run(req).await
}

async fn health(State(s): Shared) -> Result<Json<Value>, ApiError> {
    let store = s.store.clone();
    let counts = blocking(move || store.counts()).await??;
    Ok(Json(json!({
        "status": "ok",
        "workers": s.workers,
        "queue_limit": s.queue_limit,
        "jobs": counts,
    })))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn list_models(State(s): Shared) -> Result<Json<Value>, ApiError> {
    let models = s.models.clone();
    let list = blocking(move || {
        models
            .ids()
            .iter()
            .filter_map(|id| models.graph(id).ok().flatten().map(|(_, info)| info))
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(Json(json!({ "models": list })))
}

/// Runs `f` off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a request task failed: {e}")))
}

/// Reads a JSON body of at most `max` bytes into `T`, with a JSON error for every way it
/// can be wrong.
async fn json_body<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
) -> Result<T, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is over the limit of {max} bytes (--max-body)"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > max {
            return Err(too_large());
        }
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_json",
            "send the body as application/json",
        ));
    }
    let bytes = to_bytes(body, max).await.map_err(|_| too_large())?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("the body is not the JSON this endpoint takes: {e}"),
        )
    })
}

/// `POST /jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRequest {
    /// The model id.
    model: String,
    /// The input, in EZKL's format: `{"input_data": [[...]]}`.
    input: Value,
    /// Which sample of `input` to prove.
    #[serde(default)]
    row: usize,
}

fn unknown_model(id: &str) -> ApiError {
    ApiError::not_found(
        "unknown_model",
        format!("no set-up model `{id}` (GET /models lists them)"),
    )
}

/// What a job's report adds to its row: its place in the queue, or how far along it is.
#[derive(Debug, Default)]
struct Outlook {
    /// Queued jobs a worker takes first (queued jobs only).
    ahead: Option<i64>,
    /// The model's recent mean run time in ms, when some job of it finished.
    mean_run_ms: Option<f64>,
}

async fn outlook(s: &AppState, job: &Job) -> Result<Outlook, ApiError> {
    if matches!(job.status, Status::Done | Status::Failed) {
        return Ok(Outlook::default());
    }
    let (store, id, model, queued) = (
        s.store.clone(),
        job.id.clone(),
        job.model.clone(),
        job.status == Status::Queued,
    );
    blocking(move || {
        Ok(Outlook {
            ahead: if queued {
                Some(store.ahead_of(&id)?)
            } else {
                None
            },
            mean_run_ms: store.mean_run_ms(&model)?,
        })
    })
    .await?
}

fn job_json(job: &Job, outlook: &Outlook) -> Value {
    let mut v = serde_json::to_value(job).unwrap_or(Value::Null);
    let now = crate::store::now_ms();
    // A job queued again after a restart has no current run.
    let elapsed = job
        .started_ms
        .filter(|_| job.status != Status::Queued)
        .map(|s| job.finished_ms.unwrap_or(now) - s);
    let (progress, eta_ms) = progress(job, elapsed, outlook);
    if let Value::Object(m) = &mut v {
        m.insert("progress".into(), json!(progress));
        m.insert("elapsed_ms".into(), json!(elapsed));
        m.insert("eta_ms".into(), json!(eta_ms));
        m.insert("queued_ahead".into(), json!(outlook.ahead));
        if job.status == Status::Done {
            m.insert("proof_url".into(), json!(format!("/jobs/{}/proof", job.id)));
        }
    }
    v
}

/// The completed fraction and the expected ms left. A running job is measured against the
/// model's recent mean run time when there is one, else by the step it reached.
fn progress(job: &Job, elapsed: Option<i64>, outlook: &Outlook) -> (f64, Option<i64>) {
    match job.status {
        Status::Done | Status::Failed => (1.0, Some(0)),
        Status::Queued => (0.0, None),
        Status::Running => match (outlook.mean_run_ms, elapsed) {
            (Some(mean), Some(elapsed)) if mean > 0.0 => {
                let done = (elapsed as f64 / mean).min(0.99);
                (done, Some((mean - elapsed as f64).max(0.0) as i64))
            }
            _ => {
                let by_stage = match job.stage.as_str() {
                    "loading proving key" => 0.05,
                    "running the model" => 0.1,
                    "proving" => 0.2,
                    "writing the proof" => 0.95,
                    _ => 0.01,
                };
                (by_stage, None)
            }
        },
    }
}

fn queue_full(limit: usize) -> Response {
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "queue_full",
        format!("{limit} jobs are already queued or running (--queue-limit); retry later"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

async fn submit(State(s): Shared, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let req: SubmitRequest = json_body(&headers, body, s.max_body).await?;
    // A full queue is refused before the input is run (cheap 429s under a flood); the
    // insert checks again atomically.
    let store = s.store.clone();
    if blocking(move || store.pending()).await?? >= s.queue_limit as i64 {
        return Ok(queue_full(s.queue_limit));
    }
    let input_text = req.input.to_string();
    let models = s.models.clone();
    let model = req.model.clone();
    let row = req.row;
    s.checked(move || -> Result<(), ApiError> {
        let (graph, _) = models
            .graph(&model)
            .map_err(|e| ApiError::internal(one_line(&e)))?
            .ok_or_else(|| unknown_model(&model))?;
        // The input must fit the model now, not fail later in a worker. Running it
        // (milliseconds, beside the proof) also catches values outside the range the
        // model was compiled for.
        let input = zkinfer_pipeline::Input::Json {
            text: &input_text,
            row,
            origin: "input",
        };
        zkinfer_pipeline::run::run_graph(&graph, &input, zkinfer_pipeline::DeviceChoice::Cpu)
            .map_err(|e| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_input", one_line(&e))
            })?;
        Ok(())
    })
    .await??;
    let (store, model, text, row, limit) = (
        s.store.clone(),
        req.model,
        req.input.to_string(),
        req.row as i64,
        s.queue_limit,
    );
    match blocking(move || store.insert(&model, &text, row, limit)).await?? {
        Insert::Accepted(job) => {
            s.signal.job_queued();
            // The job is committed: a failure to describe it must not look like a refusal.
            let outlook = outlook(&s, &job).await.unwrap_or_default();
            let mut r = (StatusCode::ACCEPTED, Json(job_json(&job, &outlook))).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("/jobs/{}", job.id)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        Insert::Full { limit } => Ok(queue_full(limit)),
    }
}

fn unknown_job(id: &str) -> ApiError {
    ApiError::not_found("unknown_job", format!("no job `{id}`"))
}

async fn find_job(s: &AppState, id: String) -> Result<Job, ApiError> {
    let store = s.store.clone();
    let key = id.clone();
    blocking(move || store.get(&key))
        .await??
        .ok_or_else(|| unknown_job(&id))
}

/// The `{id}` of a job URL, or a JSON 400 (a path that is not UTF-8, say).
fn job_id(id: Result<UrlPath<String>, PathRejection>) -> Result<String, ApiError> {
    id.map(|UrlPath(id)| id)
        .map_err(|e| ApiError::bad_request("bad_path", format!("the job id in the URL: {e}")))
}

/// The longest `?wait=` a status request may block, in seconds.
pub const MAX_WAIT_S: u64 = 60;

/// `GET /jobs/{id}` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusQuery {
    /// Seconds to wait for the job to end before answering (long polling).
    #[serde(default)]
    wait: u64,
}

async fn job_status(
    State(s): Shared,
    id: Result<UrlPath<String>, PathRejection>,
    query: Result<Query<StatusQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = job_id(id)?;
    let Query(query) =
        query.map_err(|e| ApiError::bad_request("bad_query", format!("the query: {e}")))?;
    if query.wait > MAX_WAIT_S {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("wait is at most {MAX_WAIT_S} seconds, got {}", query.wait),
        ));
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(query.wait);
    let job = loop {
        // Listen before looking, so an end between the two is not missed.
        let ended = s.signal.finished.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        let job = find_job(&s, id.clone()).await?;
        let finished = matches!(job.status, Status::Done | Status::Failed);
        // A stopping server answers at once: its graceful shutdown waits for every request.
        if finished || s.signal.stopping() || tokio::time::Instant::now() >= deadline {
            break job;
        }
        tokio::select! {
            () = &mut ended => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    };
    let outlook = outlook(&s, &job).await?;
    Ok(Json(job_json(&job, &outlook)))
}

async fn job_proof(
    State(s): Shared,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let job = find_job(&s, job_id(id)?).await?;
    match job.status {
        Status::Done => {}
        Status::Failed => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "job_failed",
                format!("job {} failed: {}", job.id, job.error.unwrap_or_default()),
            ))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_ready",
                format!(
                    "job {} is {} ({}); poll GET /jobs/{}",
                    job.id,
                    json!(job.status),
                    job.stage,
                    job.id
                ),
            ))
        }
    }
    let path = s.proofs.join(format!("{}.json", job.id));
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| ApiError::internal(format!("the proof of job {} is missing: {e}", job.id)))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// `POST /verify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    /// The model id whose verifying key checks the proof.
    model: String,
    /// The proof file (what `GET /jobs/{id}/proof` returns under `proof`).
    proof: Value,
    /// Check with the Solidity verifier in an embedded EVM instead.
    #[serde(default)]
    evm: bool,
}

async fn verify(State(s): Shared, headers: HeaderMap, body: Body) -> Result<Json<Value>, ApiError> {
    let req: VerifyRequest = json_body(&headers, body, s.max_body).await?;
    let vk = ModelDir::new(&s.models.dir(&req.model)).vk();
    if !crate::models::valid_id(&req.model) || !vk.is_file() {
        return Err(unknown_model(&req.model));
    }
    // The same checks (format tag, version) as a proof file read from disk.
    let file = ProofFile::parse(&req.proof.to_string(), std::path::Path::new("proof"))
        .map_err(|e| ApiError::bad_request("bad_proof", format!("`proof`: {e}")))?;
    let report = s
        .checked(move || verify_proof(&vk, &file, "the proof", None, req.evm, &Quiet))
        .await?;
    match report {
        Ok(r) => Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null))),
        Err(
            e @ (PipelineError::Rejected { .. }
            | PipelineError::Artifact(_)
            | PipelineError::KeyMismatch(_)
            | PipelineError::CommitmentMismatch(_)),
        ) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected",
            one_line(&e),
        )),
        Err(e) => Err(ApiError::internal(one_line(&e))),
    }
}
