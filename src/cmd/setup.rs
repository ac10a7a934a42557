//! `zkinfer setup` and `zkinfer srs gen`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use zkinfer::circuits::plan;
use zkinfer::layout::ModelDir;
use zkinfer::models::artifact::read_model;
use zkinfer::progress::step;
use zkinfer::prover::keys::{encode_pk, encode_vk};
use zkinfer::prover::srs;

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
        (false, Some(p)) => (srs::read(p)?, false),
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
    let pk_bytes = encode_pk(&keys.pk, &plan.params, &hash);
    write(&d.pk(), &pk_bytes)?;
    write(&d.vk(), &vk_bytes)?;
    if generated || srs_path.is_some_and(|p| p != d.srs()) {
        write(&d.srs(), &srs::encode(&loaded))?;
    }
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
