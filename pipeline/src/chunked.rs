//! Chunked models: a compiled model split at tensor boundaries into chunks that each prove
//! as an ordinary model (DIR/chunk-0, DIR/chunk-1, ... and DIR/chunks.json), linked by
//! salted commitments to their boundaries (`zkinfer_ir::chunk`).

use std::path::{Path, PathBuf};

use zkinfer_circuits::plan;
use zkinfer_ir::artifact::{encode_model, hash_hex, read_model, ModelHash};
use zkinfer_ir::chunk::{
    self, chunk_tensor, ChunkEntry, ChunkManifest, ChunkedProof, BUNDLE_FORMAT, MANIFEST_FORMAT,
    MANIFEST_VERSION,
};
use zkinfer_ir::QGraph;
use zkinfer_verifier::chunked::verify_chunks;
use zkinfer_verifier::VerifierKey;

use crate::error::{PipelineError, Result};
use crate::input::Input;
use crate::layout::ModelDir;
use crate::observer::{step, Observer};
use crate::prove::{ProvingModel, Salt};
use crate::run::checked_trace;
use crate::setup::{setup, SrsChoice};
use crate::write::write;
use zkinfer_runtime::DeviceChoice;

/// How many chunks `compile` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Exactly this many (`--chunks N`).
    Count(usize),
    /// As few as keep every chunk's circuit at or under this k (`--max-k K`).
    MaxK(u32),
}

/// `chunks.json` in a model directory.
pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("chunks.json")
}

/// The manifest of a chunked model directory, or `None` for an ordinary one.
pub fn read_manifest(dir: &Path) -> Result<Option<ChunkManifest>> {
    let path = manifest_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| PipelineError::read(&path, e))?;
    let m: ChunkManifest = serde_json::from_str(&text)?;
    // Chunk directories are DIR/chunk-0, DIR/chunk-1, ...: a manifest naming any other path
    // (`..`, an absolute one) is refused rather than followed.
    let named_in_order = m
        .chunks
        .iter()
        .enumerate()
        .all(|(i, c)| c.dir == format!("chunk-{i}"));
    if m.format != MANIFEST_FORMAT
        || m.version != MANIFEST_VERSION
        || m.chunks.is_empty()
        || !named_in_order
    {
        return Err(PipelineError::KeyMismatch(format!(
            "{}: not a chunk manifest this version reads (format `{}`, version {}, {} chunks, directories chunk-0, chunk-1, ... in order)",
            path.display(),
            m.format,
            m.version,
            m.chunks.len()
        )));
    }
    Ok(Some(m))
}

/// The manifest of `dir`, which must be a chunked model directory.
fn manifest(dir: &Path) -> Result<ChunkManifest> {
    read_manifest(dir)?.ok_or_else(|| {
        PipelineError::option(
            "DIR",
            format!(
                "{} has no chunks.json (compile it with --chunks)",
                dir.display()
            ),
        )
    })
}

/// What splitting wrote.
#[derive(Debug, Clone)]
pub struct ChunkedModel {
    /// The manifest.
    pub manifest: ChunkManifest,
    /// Each chunk's circuit k and rows.
    pub plans: ChunkPlans,
}

/// Each chunk's circuit k and rows.
pub type ChunkPlans = Vec<(u32, usize)>;

fn chunk_plans(chunks: &[QGraph]) -> Result<ChunkPlans> {
    chunks
        .iter()
        .map(|c| {
            c.validate()?;
            let p = plan(c)?;
            Ok((p.params.k, p.rows))
        })
        .collect()
}

/// The chunks of `graph` for `how`, with their plans (k, rows).
pub fn choose_chunks(graph: &QGraph, how: Chunking) -> Result<(Vec<QGraph>, ChunkPlans)> {
    let whole = plan(graph).ok();
    let cost: Vec<u64> = (0..graph.nodes.len())
        .map(|i| {
            whole
                .as_ref()
                .and_then(|p| p.node_rows.get(i))
                .map_or(1, |(_, r)| *r as u64 + 1)
        })
        .collect();
    let split = |n: usize| -> Result<Vec<QGraph>> {
        let cuts = chunk::balanced_cuts(graph, n, &cost)
            .map_err(|e| PipelineError::option("--chunks", e.to_string()))?;
        chunk::split(graph, &cuts).map_err(|e| PipelineError::option("--chunks", e.to_string()))
    };
    match how {
        Chunking::Count(n) => {
            let chunks = split(n.max(1))?;
            let plans = chunk_plans(&chunks)?;
            Ok((chunks, plans))
        }
        Chunking::MaxK(k) => {
            let most = chunk::valid_cuts(graph).len() + 1;
            let mut last_err = None;
            for n in 1..=most {
                let chunks = split(n)?;
                match chunk_plans(&chunks) {
                    Ok(plans) if plans.iter().all(|(ck, _)| *ck <= k) => {
                        return Ok((chunks, plans))
                    }
                    Ok(plans) => {
                        last_err = plans.iter().map(|p| p.0).max();
                    }
                    Err(_) => {}
                }
            }
            Err(PipelineError::option(
                "--max-k",
                format!(
                    "no split into at most {most} chunks keeps every chunk at k <= {k} (the best \
                     found needs k = {}); the model's valid boundaries are too far apart",
                    last_err.map_or("?".into(), |x| x.to_string())
                ),
            ))
        }
    }
}

/// Splits the compiled model in `dir` as `how` says and writes DIR/chunk-i/model.zkm and
/// DIR/chunks.json (the whole model.zkm stays: inference runs on it once per proof).
pub fn write_chunks(dir: &Path, how: Chunking, obs: &dyn Observer) -> Result<ChunkedModel> {
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
    let (chunks, plans) = choose_chunks(&graph, how)?;
    let mut entries = Vec::with_capacity(chunks.len());
    let mut start = 0;
    for (i, c) in chunks.iter().enumerate() {
        let name = format!("chunk-{i}");
        let cd = ModelDir::new(&dir.join(&name));
        std::fs::create_dir_all(&cd.dir).map_err(|source| PipelineError::Io {
            action: "create",
            path: cd.dir.clone(),
            source,
        })?;
        let (zkm, chash) = encode_model(c);
        write(obs, &cd.model(), &zkm)?;
        let out = c
            .output_tensor()
            .cloned()
            .unwrap_or_else(|| c.input.clone());
        entries.push(ChunkEntry {
            dir: name,
            model_hash: hash_hex(&chash),
            nodes: [start, start + c.nodes.len()],
            input: chunk_tensor(&c.input_name, &c.input),
            output: chunk_tensor(&c.output_name, &out),
        });
        start += c.nodes.len();
    }
    let manifest = ChunkManifest {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        model_hash: hash_hex(&hash),
        chunks: entries,
    };
    write(
        obs,
        &manifest_path(dir),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    Ok(ChunkedModel { manifest, plans })
}

fn check_whole(dir: &Path, m: &ChunkManifest) -> Result<(QGraph, ModelHash)> {
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
    if hash_hex(&hash) != m.model_hash {
        return Err(PipelineError::KeyMismatch(format!(
            "{} names model {}, but {} is model {}: compile again with --chunks",
            manifest_path(dir).display(),
            m.model_hash,
            d.model().display(),
            hash_hex(&hash)
        )));
    }
    Ok((graph, hash))
}

/// Keys for every chunk: one SRS at the largest chunk's k (DIR/srs.bin), downsized per chunk.
pub fn setup_chunks(dir: &Path, srs_choice: &SrsChoice, obs: &dyn Observer) -> Result<Vec<String>> {
    let m = manifest(dir)?;
    check_whole(dir, &m)?;
    let mut kmax = 0;
    for c in &m.chunks {
        let (g, _) = read_model(&ModelDir::new(&dir.join(&c.dir)).model())?;
        kmax = kmax.max(plan(&g)?.params.k);
    }
    let srs_path = match srs_choice {
        SrsChoice::File(p) => p.clone(),
        SrsChoice::InsecureTest => {
            obs.warn("WARNING: generating an INSECURE test SRS; proofs made with it are for testing only");
            let (loaded, _) = step(obs, &format!("generating test SRS (k = {kmax})"), || {
                zkinfer_prover::srs::generate_insecure(kmax)
            });
            let path = ModelDir::new(dir).srs();
            write(obs, &path, &zkinfer_prover::srs::encode(&loaded))?;
            path
        }
    };
    let mut digests = Vec::with_capacity(m.chunks.len());
    for (i, c) in m.chunks.iter().enumerate() {
        obs.note(&format!("chunk {i} of {} ({}):", m.chunks.len(), c.dir));
        let chunk_dir = dir.join(&c.dir);
        let out = setup(&chunk_dir, &SrsChoice::File(srs_path.clone()), obs)?;
        digests.push(out.key_digest);
        // The chunk's prover reads DIR/srs.bin (downsized): no copy per chunk.
        let copy = ModelDir::new(&chunk_dir).srs();
        if srs_path == ModelDir::new(dir).srs() && copy.exists() {
            std::fs::remove_file(&copy).map_err(|source| PipelineError::Io {
                action: "remove",
                path: copy.clone(),
                source,
            })?;
        }
    }
    Ok(digests)
}

/// A chunked proof and the model's output.
#[derive(Debug, Clone)]
pub struct ChunkedProved {
    /// The bundle.
    pub bundle: ChunkedProof,
    /// The whole model's output (quantized values of the last chunk).
    pub output: zkinfer_ir::proof_file::TensorValues,
    /// Seconds per chunk proof.
    pub prove_s: Vec<f64>,
    /// The salt drawn for this proof (none when one was given): every commitment uses it.
    pub fresh_salt: Option<String>,
}

/// The proving jobs of one chunked proof: each chunk's input values (the model input for
/// the first, its boundary tensor after) and the one salt every commitment uses.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChunkJobs {
    /// SHA-256 of the whole model (hex).
    pub model_hash: String,
    /// Per chunk: its directory (relative to the model directory) and quantized input.
    pub chunks: Vec<ChunkJob>,
    /// The salt (0x-prefixed hex).
    pub salt: String,
    /// True when the salt was drawn now.
    pub fresh_salt: bool,
    /// The whole model's output on this input.
    pub output: zkinfer_ir::proof_file::TensorValues,
}

/// One chunk's proving job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChunkJob {
    /// The chunk's directory, relative to the model directory.
    pub dir: String,
    /// Its input, quantized.
    pub values: Vec<i64>,
}

/// Runs the whole model once on `input` and returns every chunk's job.
pub fn chunk_jobs(
    dir: &Path,
    input: &Input<'_>,
    salt: &Salt,
    device: DeviceChoice,
) -> Result<ChunkJobs> {
    let m = manifest(dir)?;
    let (graph, _) = check_whole(dir, &m)?;
    jobs_of(dir, &m, &graph, input, salt, device)
}

/// [`chunk_jobs`] for a manifest and whole model already read.
fn jobs_of(
    dir: &Path,
    m: &ChunkManifest,
    graph: &QGraph,
    input: &Input<'_>,
    salt: &Salt,
    device: DeviceChoice,
) -> Result<ChunkJobs> {
    let (trace, _) = checked_trace(graph, input, device)?;
    let (salt, fresh_salt) = match salt {
        Salt::Fresh => (
            zkinfer_circuits::poseidon::to_hex(&crate::prove::fresh_salt()),
            true,
        ),
        Salt::Given { hex, .. } => (hex.trim().to_string(), false),
    };
    let mut chunks = Vec::with_capacity(m.chunks.len());
    for (i, c) in m.chunks.iter().enumerate() {
        let values: Vec<i64> = if i == 0 {
            crate::input::quantized(graph, input)?
        } else {
            let [first, _] = c.nodes;
            let boundary = m
                .chunks
                .get(i - 1)
                .map(|p| p.output.name.clone())
                .unwrap_or_default();
            let id = graph
                .nodes
                .iter()
                .take(first)
                .position(|n| n.name == boundary)
                .map(|p| p + 1)
                .ok_or_else(|| {
                    PipelineError::KeyMismatch(format!(
                        "{}: boundary `{boundary}` of chunk {i} is not a node before it",
                        manifest_path(dir).display()
                    ))
                })?;
            trace.get(id).map(<[i64]>::to_vec).unwrap_or_default()
        };
        chunks.push(ChunkJob {
            dir: c.dir.clone(),
            values,
        });
    }
    Ok(ChunkJobs {
        model_hash: m.model_hash.clone(),
        chunks,
        salt,
        fresh_salt,
        output: crate::run::output_values(graph, &trace),
    })
}

/// Proves one chunk job of the model in `dir` (what a Ray task runs). Returns the proof and
/// its seconds.
pub fn prove_job(
    dir: &Path,
    job: &ChunkJob,
    salt: &str,
    device: DeviceChoice,
    obs: &dyn Observer,
) -> Result<(
    zkinfer_ir::proof_file::ProofFile,
    zkinfer_ir::proof_file::TensorValues,
    f64,
)> {
    if job.dir.contains("..") || Path::new(&job.dir).is_absolute() {
        return Err(PipelineError::option(
            "chunk",
            format!("`{}` is not a chunk directory of the model", job.dir),
        ));
    }
    let model = ProvingModel::load(&dir.join(&job.dir), obs)?;
    let input = Input::Quantized {
        values: &job.values,
        origin: &job.dir,
    };
    let salt = Salt::Given {
        hex: salt.to_string(),
        origin: "the chunk salt".into(),
    };
    let proved = model.prove(&input, &salt, device, obs)?;
    Ok((proved.proof, proved.output, proved.prove_s))
}

/// Runs the whole model once on `input`, then proves every chunk on its boundary values with
/// one salt (fresh, or `salt`'s), `jobs` chunks at a time.
pub fn prove_chunks(
    dir: &Path,
    input: &Input<'_>,
    salt: &Salt,
    device: DeviceChoice,
    obs: &dyn Observer,
) -> Result<ChunkedProved> {
    prove_chunks_with(dir, input, salt, device, 1, None, obs)
}

/// What a resumable run keeps between attempts (`STATE/state.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct RunState {
    model_hash: String,
    input_sha256: String,
    salt: String,
}

fn input_digest(values: &[i64]) -> String {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    hash_hex(&zkinfer_ir::artifact::sha256(&bytes))
}

/// The salt and the chunk proofs a previous attempt at the same proof left in `state`
/// (same model, same input; the salt given now, if any, must be the one it used).
fn resumed(
    dir: &Path,
    state: &Path,
    m: &ChunkManifest,
    input_sha256: &str,
    salt: &Salt,
) -> Option<(String, Vec<Option<zkinfer_ir::proof_file::ProofFile>>)> {
    let text = std::fs::read_to_string(state.join("state.json")).ok()?;
    let s: RunState = serde_json::from_str(&text).ok()?;
    let same_salt = match salt {
        Salt::Fresh => true,
        Salt::Given { hex, .. } => hex.trim() == s.salt,
    };
    if s.model_hash != m.model_hash || s.input_sha256 != input_sha256 || !same_salt {
        return None;
    }
    let proofs = m
        .chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = zkinfer_ir::proof_file::ProofFile::read(&state.join(format!("chunk-{i}.json")))
                .ok()?;
            // Kept only if it still verifies with the chunk's key (keys may have been remade).
            let key = VerifierKey::read(&ModelDir::new(&dir.join(&c.dir)).vk()).ok()?;
            let ok = p.model_hash == c.model_hash && zkinfer_verifier::verify(&key, &p).is_ok();
            ok.then_some(p)
        })
        .collect();
    Some((s.salt, proofs))
}

/// [`prove_chunks`] with `jobs` chunk proofs at a time (each on its own thread; the
/// prover's own threads are shared). With `resume`, each chunk proof is kept in that
/// directory as it is made, and a later call for the same model and input proves only the
/// chunks missing there (with the salt the first attempt drew); the caller removes it once
/// the bundle is written.
pub fn prove_chunks_with(
    dir: &Path,
    input: &Input<'_>,
    salt: &Salt,
    device: DeviceChoice,
    jobs: usize,
    resume: Option<&Path>,
    obs: &dyn Observer,
) -> Result<ChunkedProved> {
    let m = manifest(dir)?;
    let (graph, _) = check_whole(dir, &m)?;
    let digest = input_digest(&crate::input::quantized(&graph, input)?);
    let earlier = resume.and_then(|state| resumed(dir, state, &m, &digest, salt));
    let (salt, mut kept, fresh_from_earlier) = match earlier {
        Some((hex, proofs)) => {
            let n = proofs.iter().flatten().count();
            obs.note(&format!(
                "resuming: {n} of {} chunk proofs kept",
                m.chunks.len()
            ));
            (
                Salt::Given {
                    hex,
                    origin: "the resumed run".into(),
                },
                proofs,
                matches!(salt, Salt::Fresh),
            )
        }
        None => (salt.clone(), vec![None; m.chunks.len()], false),
    };
    let mut plan = jobs_of(dir, &m, &graph, input, &salt, device)?;
    plan.fresh_salt |= fresh_from_earlier;
    if let Some(state) = resume {
        std::fs::create_dir_all(state).map_err(|source| PipelineError::Io {
            action: "create",
            path: state.to_path_buf(),
            source,
        })?;
        let s = RunState {
            model_hash: m.model_hash.clone(),
            input_sha256: digest,
            salt: plan.salt.clone(),
        };
        write(
            obs,
            &state.join("state.json"),
            serde_json::to_string(&s)?.as_bytes(),
        )?;
    }
    let n = plan.chunks.len();
    type Done = Result<(
        zkinfer_ir::proof_file::ProofFile,
        zkinfer_ir::proof_file::TensorValues,
        f64,
    )>;
    let mut done: Vec<Option<Done>> = (0..n).map(|_| None).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(job) = plan.chunks.get(i) else { break };
                if kept.get(i).is_some_and(Option::is_some) {
                    continue;
                }
                obs.note(&format!("proving chunk {i} of {n} ({})", job.dir));
                let r = prove_job(dir, job, &plan.salt, device, obs);
                if let (Ok((proof, _, _)), Some(state)) = (&r, resume) {
                    // Kept for a later attempt; a failed write only loses the resumption.
                    let _ = write(
                        obs,
                        &state.join(format!("chunk-{i}.json")),
                        proof.to_json().as_bytes(),
                    );
                }
                let failed = r.is_err();
                if let Ok(mut v) = results.lock() {
                    v.push((i, r));
                }
                if failed {
                    // Stop handing out chunks; the error is reported below.
                    next.store(n, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    for (i, r) in results.into_inner().unwrap_or_default() {
        if let Some(slot) = done.get_mut(i) {
            *slot = Some(r);
        }
    }
    let mut proofs = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    for (i, r) in done.into_iter().enumerate() {
        if let Some(p) = kept.get_mut(i).and_then(Option::take) {
            proofs.push(p);
            times.push(0.0);
            continue;
        }
        let (proof, _, s) =
            r.ok_or_else(|| PipelineError::option("DIR", format!("chunk {i} was not proved")))??;
        proofs.push(proof);
        times.push(s);
    }
    Ok(ChunkedProved {
        bundle: ChunkedProof {
            format: BUNDLE_FORMAT.into(),
            version: 1,
            model_hash: plan.model_hash.clone(),
            chunks: proofs,
        },
        output: plan.output.clone(),
        prove_s: times,
        fresh_salt: plan.fresh_salt.then_some(plan.salt),
    })
}

/// Verifies a bundle against the chunk keys of `dir` (DIR/chunk-i/vk.bin), offline or with
/// each chunk's Solidity verifier in the embedded EVM (then the total gas is returned).
pub fn verify_chunks_in(
    dir: &Path,
    bundle: &ChunkedProof,
    evm: bool,
) -> Result<(zkinfer_verifier::verify::Verified, Option<u64>)> {
    let m = manifest(dir)?;
    let keys = m
        .chunks
        .iter()
        .map(|c| VerifierKey::read(&ModelDir::new(&dir.join(&c.dir)).vk()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let verified =
        verify_chunks(&m, &keys, bundle).map_err(|e| PipelineError::ChunkRejected(Box::new(e)))?;
    if !evm {
        return Ok((verified, None));
    }
    let mut gas = 0;
    for (i, (key, proof)) in keys.iter().zip(&bundle.chunks).enumerate() {
        let v = zkinfer_verifier::evm::exec::verify_in_evm(key, proof).map_err(|source| {
            PipelineError::ChunkRejected(Box::new(zkinfer_verifier::chunked::ChunkedError::Chunk {
                index: i,
                dir: m.chunks.get(i).map(|c| c.dir.clone()).unwrap_or_default(),
                source: Box::new(source),
            }))
        })?;
        gas += v.gas;
    }
    Ok((verified, Some(gas)))
}
