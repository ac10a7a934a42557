//! `zkinfer._native`: the Rust side of the Python package. Every function takes plain
//! values (paths as strings, samples as lists of floats), releases the GIL while it works,
//! and returns JSON text that `zkinfer/__init__.py` turns into Python and numpy objects.
//! A failure raises [`ZkinferError`] (or a subclass) with the flow's one-line message.

use std::path::{Path, PathBuf};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use zkinfer_compiler::QuantizeConfig;
use zkinfer_ir::proof_file::ProofFile;
use zkinfer_pipeline::error::one_line;
use zkinfer_pipeline::{
    chunked, compile, export_verifier as export, run as run_model, setup as setup_keys,
    verify_proof, DeviceChoice, Input, InputVisibility, ModelSource, PipelineError, ProvingModel,
    Quiet, Salt, Search, Source, SrsChoice,
};

create_exception!(_native, ZkinferError, PyException, "A zkinfer flow failed.");
create_exception!(
    _native,
    InputError,
    ZkinferError,
    "An argument, input sample or file does not fit the model or the flow."
);
create_exception!(
    _native,
    VerificationError,
    ZkinferError,
    "A proof was rejected, or its key or commitments are not the expected ones."
);

/// The Python exception for `e`: its class follows the error's kind.
fn to_py(e: PipelineError) -> PyErr {
    let message = format!("{} [{}]", one_line(&e), e.kind());
    match e.kind() {
        "invalid_option" | "bad_input" | "import" | "run" => InputError::new_err(message),
        "rejected" | "key_mismatch" | "commitment_mismatch" => VerificationError::new_err(message),
        _ => ZkinferError::new_err(message),
    }
}

fn invalid(option: &str, reason: impl std::fmt::Display) -> PyErr {
    InputError::new_err(format!("{option}: {reason}"))
}

fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| ZkinferError::new_err(format!("encoding JSON: {e}")))
}

/// An input sample: a file (and row), or lists of floats (one per graph input).
fn input_of<'a>(
    path: &'a Option<String>,
    row: usize,
    lists: &'a Option<Vec<Vec<f64>>>,
) -> PyResult<Input<'a>> {
    match (path, lists) {
        (Some(p), None) => Ok(Input::File {
            path: Path::new(p),
            row,
        }),
        (None, Some(v)) => Ok(Input::Values(v)),
        (Some(_), Some(_)) => Err(invalid("input", "pass a path or an array, not both")),
        (None, None) => Err(invalid("input", "pass a path or an array")),
    }
}

/// The SRS the `srs` / `insecure_test_srs` arguments choose.
fn srs_choice(srs: Option<String>, insecure_test_srs: bool) -> PyResult<SrsChoice> {
    match (insecure_test_srs, srs) {
        (true, None) => Ok(SrsChoice::InsecureTest),
        (false, Some(p)) => Ok(SrsChoice::File(PathBuf::from(p))),
        (true, Some(_)) => Err(invalid("srs", "give srs or insecure_test_srs, not both")),
        (false, None) => Err(invalid(
            "srs",
            "choose an SRS: insecure_test_srs=True for testing, or srs=PATH",
        )),
    }
}

/// The salt argument: given hex, or a fresh one.
fn salt_of(salt: Option<String>) -> Salt {
    match salt {
        Some(hex) => Salt::Given {
            hex,
            origin: "salt".into(),
        },
        None => Salt::Fresh,
    }
}

/// Compiles an ONNX model (a file or its bytes) into `out`; returns report.json's text.
#[pyfunction]
#[pyo3(signature = (out, model_path=None, model_bytes=None, calibration_path=None, calibration=None, scale=None, weight_scale=None, headroom_bits=None, bound_headroom_bits=None, max_error=None, table_scale=None, max_lanes=None, input_visibility="public".to_string(), output_visibility="public".to_string(), param_visibility="fixed".to_string()))]
#[allow(clippy::too_many_arguments)]
fn compile_model(
    py: Python<'_>,
    out: String,
    model_path: Option<String>,
    model_bytes: Option<PyBackedBytes>,
    calibration_path: Option<String>,
    calibration: Option<Vec<Vec<f64>>>,
    scale: Option<u32>,
    weight_scale: Option<u32>,
    headroom_bits: Option<u32>,
    bound_headroom_bits: Option<u32>,
    max_error: Option<f64>,
    table_scale: Option<u32>,
    max_lanes: Option<usize>,
    input_visibility: String,
    output_visibility: String,
    param_visibility: String,
) -> PyResult<String> {
    let search = Search {
        max_error,
        table_scale,
        fixed_scale: scale.is_some(),
        max_lanes,
        input_visibility: input_visibility
            .parse::<InputVisibility>()
            .map_err(|e| invalid("input_visibility", e))?,
        output_visibility: output_visibility
            .parse()
            .map_err(|e| invalid("output_visibility", e))?,
        param_visibility: param_visibility
            .parse()
            .map_err(|e| invalid("param_visibility", e))?,
    };
    let d = QuantizeConfig::DEFAULT;
    let config = QuantizeConfig {
        scale: scale.unwrap_or(d.scale),
        weight_scale: weight_scale.unwrap_or(d.weight_scale),
        headroom_bits: headroom_bits.unwrap_or(d.headroom_bits),
        table_scale: table_scale.unwrap_or(d.table_scale),
        bound_headroom_bits: bound_headroom_bits.unwrap_or(d.bound_headroom_bits),
    };
    py.detach(move || {
        let bytes = match (&model_path, model_bytes) {
            (Some(p), None) => std::fs::read(p).map_err(|e| to_py(PipelineError::read(p, e)))?,
            (None, Some(b)) => b.to_vec(),
            (Some(_), Some(_)) => {
                return Err(invalid("model", "pass a path or the ONNX bytes, not both"))
            }
            (None, None) => return Err(invalid("model", "pass a path or the ONNX bytes")),
        };
        let label = model_path.clone().unwrap_or_else(|| "<onnx bytes>".into());
        let calibration = match (&calibration_path, &calibration) {
            (Some(p), None) => Input::File {
                path: Path::new(p),
                row: 0,
            },
            (None, Some(v)) => Input::Values(v),
            (Some(_), Some(_)) => {
                return Err(invalid("calibration", "pass a path or an array, not both"))
            }
            (None, None) => return Err(invalid("calibration", "pass a path or an array")),
        };
        let source = Source {
            bytes: &bytes,
            label: &label,
            base: model_path.as_deref().map(Path::new).and_then(Path::parent),
        };
        let c = compile(source, &calibration, config, &search, &Quiet).map_err(to_py)?;
        c.write(Path::new(&out), &Quiet).map_err(to_py)?;
        json(&c.report)
    })
}

/// Generates the keys of the model in `dir`; returns {key_digest, k, srs_s, keygen_s}.
#[pyfunction]
#[pyo3(signature = (dir, srs=None, insecure_test_srs=false))]
fn setup(
    py: Python<'_>,
    dir: String,
    srs: Option<String>,
    insecure_test_srs: bool,
) -> PyResult<String> {
    let choice = srs_choice(srs, insecure_test_srs)?;
    py.detach(move || json(&setup_keys(Path::new(&dir), &choice, &Quiet).map_err(to_py)?))
}

/// Runs the model in `dir` on an input and proves the output; returns (proof JSON, meta JSON).
#[pyfunction]
#[pyo3(signature = (dir, input_path=None, input=None, row=0, salt=None, device="auto".to_string()))]
fn prove(
    py: Python<'_>,
    dir: String,
    input_path: Option<String>,
    input: Option<Vec<Vec<f64>>>,
    row: usize,
    salt: Option<String>,
    device: String,
) -> PyResult<(String, String)> {
    let device: DeviceChoice = device.parse().map_err(|e| invalid("device", e))?;
    let salt = salt_of(salt);
    py.detach(move || {
        let input = input_of(&input_path, row, &input)?;
        let model = ProvingModel::load(Path::new(&dir), &Quiet).map_err(to_py)?;
        let p = model.prove(&input, &salt, device, &Quiet).map_err(to_py)?;
        let meta = serde_json::json!({
            "output": p.output,
            "fresh_salt": p.fresh_salt,
            "prove_s": p.prove_s,
        });
        Ok((p.proof.to_json(), json(&meta)?))
    })
}

/// Verifies a proof (its JSON text) against the key at `vk`; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (vk, proof_json, evm=false, model=None, srs=None, onnx=None))]
fn verify(
    py: Python<'_>,
    vk: String,
    proof_json: String,
    evm: bool,
    model: Option<String>,
    srs: Option<String>,
    onnx: Option<String>,
) -> PyResult<String> {
    py.detach(move || {
        let file =
            ProofFile::parse(&proof_json, Path::new("proof")).map_err(|e| to_py(e.into()))?;
        let source = model.map(|m| ModelSource {
            model: PathBuf::from(m),
            srs: srs.map(PathBuf::from),
            onnx: onnx.map(PathBuf::from),
        });
        let report = verify_proof(Path::new(&vk), &file, "proof", source.as_ref(), evm, &Quiet)
            .map_err(to_py)?;
        json(&report)
    })
}

/// Runs the model in `dir` on an input (no proof); returns the output as JSON.
#[pyfunction]
#[pyo3(signature = (dir, input_path=None, input=None, row=0, device="auto".to_string()))]
fn run(
    py: Python<'_>,
    dir: String,
    input_path: Option<String>,
    input: Option<Vec<Vec<f64>>>,
    row: usize,
    device: String,
) -> PyResult<String> {
    let device: DeviceChoice = device.parse().map_err(|e| invalid("device", e))?;
    py.detach(move || {
        let input = input_of(&input_path, row, &input)?;
        json(&run_model(Path::new(&dir), &input, device).map_err(to_py)?)
    })
}

/// Renders the Solidity verifier of the key in `dir` (with committed parameters, for the
/// weight set of the proof at `weights_from`); returns it and its costs as JSON.
#[pyfunction]
#[pyo3(signature = (dir, weights_from=None))]
fn export_verifier(py: Python<'_>, dir: String, weights_from: Option<String>) -> PyResult<String> {
    py.detach(move || {
        json(&export(Path::new(&dir), weights_from.as_deref().map(Path::new)).map_err(to_py)?)
    })
}

/// Splits the compiled model in `dir` into `chunks` chunks, or as few as keep every chunk at
/// k <= `max_k`; returns chunks.json's text.
#[pyfunction]
#[pyo3(signature = (dir, chunks=None, max_k=None))]
fn chunk_model(
    py: Python<'_>,
    dir: String,
    chunks: Option<usize>,
    max_k: Option<u32>,
) -> PyResult<String> {
    let how = match (chunks, max_k) {
        (Some(n), None) if n >= 2 => chunked::Chunking::Count(n),
        (None, Some(k)) => chunked::Chunking::MaxK(k),
        _ => {
            return Err(invalid(
                "chunks",
                "give chunks (at least 2) or max_k, not both",
            ))
        }
    };
    py.detach(move || {
        let m = chunked::write_chunks(Path::new(&dir), how, &Quiet).map_err(to_py)?;
        json(&m.manifest)
    })
}

/// Keys for every chunk of the chunked model in `dir`; returns the chunk key digests as JSON.
#[pyfunction]
#[pyo3(signature = (dir, srs=None, insecure_test_srs=false))]
fn setup_chunks(
    py: Python<'_>,
    dir: String,
    srs: Option<String>,
    insecure_test_srs: bool,
) -> PyResult<String> {
    let choice = srs_choice(srs, insecure_test_srs)?;
    py.detach(move || {
        json(&chunked::setup_chunks(Path::new(&dir), &choice, &Quiet).map_err(to_py)?)
    })
}

/// The proving jobs of one chunked proof: runs the model in `dir` once on the input and
/// returns {model_hash, chunks: [{dir, values}], salt, fresh_salt} as JSON.
#[pyfunction]
#[pyo3(signature = (dir, input_path=None, input=None, row=0, salt=None, device="auto".to_string()))]
fn chunk_jobs(
    py: Python<'_>,
    dir: String,
    input_path: Option<String>,
    input: Option<Vec<Vec<f64>>>,
    row: usize,
    salt: Option<String>,
    device: String,
) -> PyResult<String> {
    let device: DeviceChoice = device.parse().map_err(|e| invalid("device", e))?;
    let salt = salt_of(salt);
    py.detach(move || {
        let input = input_of(&input_path, row, &input)?;
        json(&chunked::chunk_jobs(Path::new(&dir), &input, &salt, device).map_err(to_py)?)
    })
}

/// Proves one chunk job (`job_json`: {dir, values}) of the chunked model in `dir` with the
/// proof's salt; returns the chunk proof's JSON.
#[pyfunction]
#[pyo3(signature = (dir, job_json, salt, device="auto".to_string()))]
fn prove_chunk(
    py: Python<'_>,
    dir: String,
    job_json: String,
    salt: String,
    device: String,
) -> PyResult<String> {
    let device: DeviceChoice = device.parse().map_err(|e| invalid("device", e))?;
    py.detach(move || {
        let job: chunked::ChunkJob =
            serde_json::from_str(&job_json).map_err(|e| invalid("job", e.to_string()))?;
        let (proof, _, _) =
            chunked::prove_job(Path::new(&dir), &job, &salt, device, &Quiet).map_err(to_py)?;
        Ok(proof.to_json())
    })
}

/// Verifies a chunked model's bundle (its JSON text) against the chunk keys in `dir`;
/// returns {verified, chunks, output, insecure_srs, gas} as JSON.
#[pyfunction]
#[pyo3(signature = (dir, bundle_json, evm=false))]
fn verify_chunked(py: Python<'_>, dir: String, bundle_json: String, evm: bool) -> PyResult<String> {
    py.detach(move || {
        let bundle: zkinfer_ir::chunk::ChunkedProof =
            serde_json::from_str(&bundle_json).map_err(|e| invalid("bundle", e.to_string()))?;
        let (v, gas) = chunked::verify_chunks_in(Path::new(&dir), &bundle, evm).map_err(to_py)?;
        json(&serde_json::json!({
            "verified": true,
            "chunks": bundle.chunks.len(),
            "output": v.output,
            "insecure_srs": v.insecure_srs,
            "gas": gas,
        }))
    })
}

/// The Rust side of `zkinfer`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ZkinferError", m.py().get_type::<ZkinferError>())?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("VerificationError", m.py().get_type::<VerificationError>())?;
    m.add_function(wrap_pyfunction!(compile_model, m)?)?;
    m.add_function(wrap_pyfunction!(setup, m)?)?;
    m.add_function(wrap_pyfunction!(prove, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(export_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(chunk_model, m)?)?;
    m.add_function(wrap_pyfunction!(setup_chunks, m)?)?;
    m.add_function(wrap_pyfunction!(chunk_jobs, m)?)?;
    m.add_function(wrap_pyfunction!(prove_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(verify_chunked, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
