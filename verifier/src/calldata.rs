//! EVM calldata for a proof: the public instances as 32-byte big-endian words, then the proof
//! bytes (the layout Solidity verifiers generated for halo2 SHPLONK proofs read).

use zkinfer_ir::proof_file::ProofFile;

use crate::error::VerifyError;
use crate::verify::fr_from_hex_be;

/// Builds the calldata for `proof`. Every instance must be a canonical 32-byte field element.
pub fn encode(proof: &ProofFile) -> Result<Vec<u8>, VerifyError> {
    let body = hex::decode(&proof.proof)
        .map_err(|e| VerifyError::Malformed(format!("proof is not hex: {e}")))?;
    let mut out = Vec::with_capacity(32 * proof.instances.len() + body.len());
    for (i, text) in proof.instances.iter().enumerate() {
        if fr_from_hex_be(text).is_none() {
            return Err(VerifyError::Mismatch {
                field: format!("instances[{i}]"),
                detail: "not a 32-byte big-endian field element".into(),
            });
        }
        out.extend(hex::decode(text).map_err(|e| VerifyError::Malformed(e.to_string()))?);
    }
    out.extend(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::path::Path;

    use super::*;

    #[test]
    fn instances_then_proof() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example_proof.json");
        let proof = ProofFile::read(&path).unwrap();
        let data = encode(&proof).unwrap();
        let body = hex::decode(&proof.proof).unwrap();
        assert_eq!(data.len(), 32 * proof.instances.len() + body.len());
        assert_eq!(hex::encode(&data[..32]), proof.instances[0]);
        assert_eq!(&data[32 * proof.instances.len()..], &body[..]);
        let mut bad = proof.clone();
        bad.instances[2] = "ff".repeat(32);
        assert!(
            matches!(encode(&bad), Err(VerifyError::Mismatch { field, .. }) if field == "instances[2]")
        );
        bad.proof = "zz".into();
        assert!(encode(&bad).is_err());
    }
}
