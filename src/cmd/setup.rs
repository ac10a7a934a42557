//! `zkinfer setup`, `zkinfer srs gen` and `zkinfer srs import`.

use std::path::Path;

use anyhow::{bail, Result};
use zkinfer::pipeline::{setup, SetupOutcome, SrsChoice};
use zkinfer::progress::{step, Terminal};
use zkinfer::prover::srs;
use zkinfer::prover::srs_import::{SrsFile, PINNED};

use super::write;

/// The SRS the flags choose.
fn srs_choice(insecure: bool, srs_path: Option<&Path>) -> Result<SrsChoice> {
    Ok(match (insecure, srs_path) {
        (true, _) => SrsChoice::InsecureTest,
        (false, Some(p)) => SrsChoice::File(p.to_path_buf()),
        (false, None) => bail!("choose an SRS: --insecure-test-srs for testing, or --srs FILE"),
    })
}

/// Generates keys for the model in `dir`.
pub fn run(dir: &Path, insecure: bool, srs_path: Option<&Path>) -> Result<SetupOutcome> {
    let choice = srs_choice(insecure, srs_path)?;
    let outcome = setup(dir, &choice, &Terminal::default())?;
    outln!("key digest: {}", outcome.key_digest);
    if let Some(d) = &outcome.param_digest {
        outln!("weight set digest: {d} (every proof's param_hash; verify --expect-param-hash)");
    }
    Ok(outcome)
}

/// Generates keys for the model in `dir`, chunk by chunk when it is chunked.
pub fn run_any(dir: &Path, insecure: bool, srs_path: Option<&Path>) -> Result<()> {
    if zkinfer::pipeline::chunked::read_manifest(dir)?.is_none() {
        return run(dir, insecure, srs_path).map(|_| ());
    }
    let choice = srs_choice(insecure, srs_path)?;
    let digests = zkinfer::pipeline::chunked::setup_chunks(dir, &choice, &Terminal::default())?;
    for (i, d) in digests.iter().enumerate() {
        outln!("chunk {i} key digest: {d}");
    }
    Ok(())
}

/// Writes an insecure test SRS of size 2^k.
pub fn srs_gen(k: u32, out: &Path) -> Result<()> {
    if !(4..=26).contains(&k) {
        bail!("--k {k} is out of range (4..=26)");
    }
    eprintln!("WARNING: generating an INSECURE test SRS; proofs made with it are for testing only");
    let (loaded, _) = step(&format!("generating test SRS (k = {k})"), || {
        srs::generate_insecure(k)
    });
    write(out, &srs::encode(&loaded))
}

/// Imports a ceremony SRS file (see `zkinfer srs import --help`).
pub fn srs_import(file: &Path, out: &Path, k: Option<u32>, allow_unpinned: bool) -> Result<()> {
    let (parsed, _) = step(&format!("reading {}", file.display()), || {
        SrsFile::read(file)
    });
    let parsed = parsed?;
    let hash = parsed.sha256_hex();
    eprintln!(
        "{}: k = {}, {}, SHA-256 {hash}",
        file.display(),
        parsed.k(),
        parsed.format()
    );
    if let Some(want) = k {
        parsed.check_target_k(want)?;
    }
    let pinned = parsed.pinned_in(PINNED).copied();
    match &pinned {
        Some(p) => eprintln!("hash matches the pinned {}", p.name),
        None if allow_unpinned => eprintln!(
            "WARNING: {}: SHA-256 {hash} is not a known ceremony file; importing it anyway \
             (--allow-unpinned), marked unpinned: proofs are only as sound as its source",
            file.display()
        ),
        None => return Err(parsed.unpinned_error().into()),
    }
    let (checked, _) = step("checking the SRS (pairings, Lagrange points)", || {
        parsed.check_consistency()
    });
    checked?;
    let file_k = parsed.k();
    let label = match k {
        Some(want) if want < file_k => format!("downsizing to k = {want}"),
        _ => "building the SRS".to_string(),
    };
    let (loaded, _) = step(&label, || parsed.into_srs(pinned.is_some(), k));
    let loaded = loaded?;
    write(out, &srs::encode(&loaded))?;
    outln!(
        "imported {} (k = {file_k}, sha256 {hash}, {}) as {} (k = {})",
        file.display(),
        pinned.map_or("UNPINNED".to_string(), |p| format!("pinned: {}", p.name)),
        out.display(),
        loaded.k()
    );
    Ok(())
}
