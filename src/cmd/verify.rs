//! `zkinfer verify`: check a proof offline, or in the embedded EVM, and optionally that the
//! verifying key is the one a compiled model gives.

use std::path::Path;

use anyhow::Result;
use zkinfer::ir::chunk::ChunkedProof;
use zkinfer::ir::proof_file::{ProofFile, TensorValues};
use zkinfer::pipeline::verify::{check_hash as check_proof_hash, INSECURE_KEY_WARNING};
use zkinfer::pipeline::{chunked, verify, verify_evm};
use zkinfer::progress::Terminal;

pub use zkinfer::pipeline::verify::Committed;
pub use zkinfer::pipeline::ModelSource;

/// Checks that the proof at `proof` exposes the commitment `want` for `which`.
pub fn check_hash(proof: &Path, which: Committed, want: &str) -> Result<()> {
    let p = ProofFile::read(proof)?;
    check_proof_hash(&p, proof, which, want)?;
    Ok(())
}

fn warn_insecure(insecure: bool) {
    if insecure {
        eprintln!("{INSECURE_KEY_WARNING}");
    }
}

fn print_digest(digest: &str, model: Option<&ModelSource>) -> Result<()> {
    match model {
        Some(m) => outln!(
            "key digest: {digest} (the key rebuilt from {} has the same)",
            m.model.display()
        ),
        None => outln!("key digest: {digest}"),
    }
    Ok(())
}

/// Verifies `proof` against `vk`; prints "verified" and the output on success.
pub fn run(vk: &Path, proof: &Path) -> Result<f64> {
    run_checked(vk, proof, None)
}

/// [`run`], first checking that `vk` is the key of `model`.
pub fn run_checked(vk: &Path, proof: &Path, model: Option<&ModelSource>) -> Result<f64> {
    let (outcome, file) = verify(vk, proof, model, &Terminal::default())?;
    outln!("verified");
    print_output(outcome.output.as_ref(), &file)?;
    print_digest(&outcome.key_digest, model)?;
    warn_insecure(outcome.insecure_srs);
    Ok(outcome.verify_s)
}

/// Deploys the Solidity verifier for `vk` in an embedded EVM and sends it the proof's calldata.
pub fn run_evm(vk: &Path, proof: &Path) -> Result<()> {
    run_evm_checked(vk, proof, None)
}

/// [`run_evm`], first checking that `vk` is the key of `model`.
pub fn run_evm_checked(vk: &Path, proof: &Path, model: Option<&ModelSource>) -> Result<()> {
    let (verified, key, file) = verify_evm(vk, proof, model, &Terminal::default())?;
    outln!("verified (EVM)");
    print_output(verified.output.as_ref(), &file)?;
    outln!(
        "gas: {} (verifying transaction, {} bytes of calldata)",
        verified.gas,
        verified.calldata_len
    );
    outln!(
        "deployed: verifier {} bytes, key contract {} bytes, {} gas",
        verified.runtime_size,
        verified.key_size,
        verified.deploy_gas
    );
    print_digest(&key.digest().to_string(), model)?;
    warn_insecure(key.insecure_srs());
    Ok(())
}

/// Prints the verified output: one line, or one per graph output (the verifier checked that
/// the named parts are the output's values).
fn print_output(output: Option<&TensorValues>, file: &ProofFile) -> Result<()> {
    match (output, &file.output_hash) {
        (Some(t), _) if file.outputs.is_empty() => outln!("output: {:?}", t.floats),
        (Some(_), _) => {}
        (None, Some(h)) => outln!("output hash: {h} (the output itself stays private)"),
        (None, None) => outln!("output: private (the proof shows only that the model ran)"),
    }
    if let Some(h) = &file.input_hash {
        outln!("input hash: {h}");
    }
    if let Some(h) = &file.param_hash {
        if file.param_commitments.is_empty() {
            outln!("param hash: {h}");
        } else {
            outln!(
                "param hash: {h} (the digest of the weight points; compare it with the weight set's, or pass --expect-param-hash)"
            );
        }
    }
    for part in &file.outputs {
        outln!(
            "output `{}` {:?}: {:?}",
            part.name,
            part.values.shape,
            part.values.floats
        );
    }
    Ok(())
}

/// Whether the file at `proof` is a chunked model's bundle.
pub fn is_bundle(proof: &Path) -> bool {
    std::fs::read_to_string(proof).is_ok_and(|t| ChunkedProof::is_bundle(&t))
}

/// Verifies a chunked model's bundle against the chunk keys of the model directory `vk`
/// (or its chunks.json): every chunk proof, every link; `expected` commitments are the first
/// chunk's input and the last chunk's output.
pub fn run_chunked(
    vk: &Path,
    proof: &Path,
    evm: bool,
    with_model: bool,
    expected: &[(Committed, Option<String>)],
) -> Result<()> {
    if with_model {
        anyhow::bail!(
            "--model checks one key; a chunked bundle has one key per chunk (DIR/chunk-i/vk.bin): \
             rebuild each with `zkinfer verify DIR/chunk-i/vk.bin` on its own proof instead"
        );
    }
    let dir = if vk.is_dir() {
        vk.to_path_buf()
    } else {
        vk.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let text = std::fs::read_to_string(proof)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", proof.display()))?;
    let bundle: ChunkedProof = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a chunk bundle: {e}", proof.display()))?;
    for (which, want) in expected {
        let Some(want) = want else { continue };
        let file = match which {
            Committed::Input => bundle.chunks.first(),
            Committed::Output => bundle.chunks.last(),
            Committed::Params => bundle.chunks.first(),
        };
        if let Some(file) = file {
            check_proof_hash(file, proof, *which, want)?;
        }
    }
    let (verified, gas) = chunked::verify_chunks_in(&dir, &bundle, evm)?;
    outln!(
        "verified: {} chunk proofs and {} links",
        bundle.chunks.len(),
        bundle.chunks.len().saturating_sub(1)
    );
    match (
        &verified.output,
        bundle.chunks.last().and_then(|p| p.output_hash.as_ref()),
    ) {
        (Some(t), _) => outln!("output: {:?}", t.floats),
        (None, Some(h)) => outln!("output hash: {h} (the output itself stays private)"),
        (None, None) => outln!("output: private (the proof shows only that the model ran)"),
    }
    // The first chunk's input is the model's: its commitment, when hashed, is the user's.
    if let Some(h) = bundle.chunks.first().and_then(|p| p.input_hash.as_ref()) {
        outln!("input hash: {h}");
    }
    if let Some(gas) = gas {
        outln!("gas: {gas} (one verification per chunk, in the embedded EVM)");
    }
    warn_insecure(verified.insecure_srs);
    Ok(())
}
