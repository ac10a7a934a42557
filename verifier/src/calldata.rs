//! EVM calldata for a proof: the public instances as 32-byte big-endian words, then the proof
//! bytes (the layout Solidity verifiers generated for halo2 SHPLONK proofs read).

use zkinfer_ir::proof_file::ProofFile;

use zkinfer_circuits::transcript::be_bytes;

use crate::error::{MalformedProof, ProofMismatch, VerifyError};
use crate::verify::fr_from_hex_be;

/// Builds the calldata for `proof`. Every instance must be a canonical 32-byte field element.
pub fn encode(proof: &ProofFile) -> Result<Vec<u8>, VerifyError> {
    let body = hex::decode(&proof.proof)
        .map_err(|source| VerifyError::Malformed(MalformedProof::NotHex { source }))?;
    let mut out = Vec::with_capacity(32 * proof.instances.len() + body.len());
    for (index, text) in proof.instances.iter().enumerate() {
        let value =
            fr_from_hex_be(text).ok_or(VerifyError::Mismatch(ProofMismatch::InstanceEncoding {
                index,
            }))?;
        // The canonical encoding, so exactly the bytes of `text`.
        out.extend(be_bytes(&value));
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
        assert!(matches!(
            encode(&bad),
            Err(VerifyError::Mismatch(ProofMismatch::InstanceEncoding {
                index: 2
            }))
        ));
        bad.instances[2] = proof.instances[2].clone();
        bad.proof = "zz".into();
        assert!(matches!(
            encode(&bad),
            Err(VerifyError::Malformed(MalformedProof::NotHex {
                source: hex::FromHexError::InvalidHexCharacter { c: 'z', index: 0 }
            }))
        ));
    }
}
