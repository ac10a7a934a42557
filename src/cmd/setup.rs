//! `zkinfer setup`, `zkinfer srs gen` and `zkinfer srs import`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use zkinfer::circuits::plan;
use zkinfer::ir::artifact::read_model;
use zkinfer::ir::ArtifactError;
use zkinfer::layout::ModelDir;
use zkinfer::progress::step;
use zkinfer::prover::keys::{encode_pk, encode_vk};
use zkinfer::prover::srs;
use zkinfer::prover::srs_import::{SrsFile, PINNED};
use zkinfer::verifier::key::KeyDigest;

use super::write;

/// Seconds spent in each part of `setup`.
#[derive(Debug, Clone, Copy)]
pub struct SetupTimes {
    /// Generating (or reading) the SRS.
    pub srs_s: f64,
    /// Key generation.
    pub keygen_s: f64,
}

/// Generates keys for the model in `dir`.
pub fn run(dir: &Path, insecure: bool, srs_path: Option<&Path>) -> Result<SetupTimes> {
    let srs_start = std::time::Instant::now();
    let d = ModelDir::new(dir);
    let (graph, hash) = read_model(&d.model())?;
    let plan = plan(&graph)?;
    let k = plan.params.k;
    let (mut loaded, generated) = match (insecure, srs_path) {
        (true, _) => {
            eprintln!("WARNING: generating an INSECURE test SRS; proofs made with it are for testing only");
            (
                step(&format!("generating test SRS (k = {k})"), || {
                    srs::generate_insecure(k)
                })
                .0,
                true,
            )
        }
        (false, Some(p)) => {
            let loaded = match srs::read(p) {
                Err(e @ ArtifactError::BadMagic { .. }) => bail!(
                    "{e}; a ceremony file (perpetual-powers-of-tau-raw-<k>) must be imported \
                     first: zkinfer srs import FILE --out srs.bin"
                ),
                r => r?,
            };
            if loaded.unpinned {
                eprintln!(
                    "WARNING: {}: this SRS was imported with --allow-unpinned; its hash is not a \
                     known ceremony file, so proofs are only as sound as its source",
                    p.display()
                );
            }
            (loaded, false)
        }
        (false, None) => bail!("choose an SRS: --insecure-test-srs for testing, or --srs FILE"),
    };
    {
        let have = loaded.k();
        if have < k {
            bail!(
                "{}: the SRS has k = {have}, the circuit needs k = {k}",
                srs_path
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
    }
    srs::downsize(&mut loaded, k);
    let srs_s = srs_start.elapsed().as_secs_f64();
    let graph = Arc::new(graph);
    let (keys, took) = step("generating keys", || {
        zkinfer::prover::setup(graph, &plan.params, &loaded)
    });
    let keys = keys?;
    let vk_bytes = encode_vk(keys.pk.get_vk(), &keys.header, &hash);
    let digest = KeyDigest::of(keys.pk.get_vk());
    let pk_bytes = encode_pk(&keys.pk, &plan.params, &hash);
    write(&d.pk(), &pk_bytes)?;
    write(&d.vk(), &vk_bytes)?;
    if generated || srs_path.is_some_and(|p| p != d.srs()) {
        write(&d.srs(), &srs::encode(&loaded))?;
    }
    outln!("key digest: {digest}");
    Ok(SetupTimes {
        srs_s,
        keygen_s: took.as_secs_f64(),
    })
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
