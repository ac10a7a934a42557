//! The header of a self-contained verifying key: everything a verifier needs besides the
//! halo2 VK bytes to rebuild the constraint system and check the public values.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use zkinfer_ir::QGraph;

use crate::config::CircuitParams;

/// Metadata stored in `vk.bin` before the halo2 verifying key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VkHeader {
    /// Parameters that `configure` needs.
    pub circuit: CircuitParams,
    /// Input shape.
    pub input_shape: Vec<usize>,
    /// Input scale (bits).
    pub input_scale: u32,
    /// Compiled input bound: the circuit's arithmetic is exact only for `|x| <= input_bound`.
    pub input_bound: u64,
    /// Output shape.
    pub output_shape: Vec<usize>,
    /// Output scale (bits).
    pub output_scale: u32,
    /// SHA-256 (hex) of the source ONNX file.
    pub source_sha256: String,
    /// SHA-256 (hex) of the quantized weights.
    pub weights_sha256: String,
    /// The KZG verifier parameters.
    pub srs: SrsHeader,
    /// The graph outputs laid end to end in the output, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_parts: Vec<zkinfer_ir::IoPart>,
    /// What the proof reveals of the input: its values, nothing, or its commitment.
    #[serde(default, skip_serializing_if = "zkinfer_ir::Visibility::is_public")]
    pub input_visibility: zkinfer_ir::Visibility,
    /// The graph inputs laid end to end in the input, when each has its own visibility.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_parts: Vec<zkinfer_ir::IoPart>,
    /// One visibility per entry of `input_parts` (empty: `input_visibility` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_part_visibility: Vec<zkinfer_ir::Visibility>,
    /// What the proof reveals of the output: its values, nothing, or its commitment.
    #[serde(default, skip_serializing_if = "zkinfer_ir::Visibility::is_public")]
    pub output_visibility: zkinfer_ir::Visibility,
    /// What numbers each graph input holds, when some is integer or boolean (empty: all
    /// real); the circuit proves it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_kinds: Vec<zkinfer_ir::NumberKind>,
    /// Where the weights live: the key (fixed), or advice, possibly committed (one more
    /// public value, after the output's).
    #[serde(default, skip_serializing_if = "zkinfer_ir::ParamVisibility::is_fixed")]
    pub param_visibility: zkinfer_ir::ParamVisibility,
}

/// The part of the KZG parameters a verifier uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsHeader {
    /// True when the SRS was generated locally for testing: its secret is not destroyed.
    pub insecure: bool,
    /// SRS size (log2).
    pub k: u32,
    /// G1 generator, compressed, hex.
    pub g1: String,
    /// G2 generator, compressed, hex.
    pub g2: String,
    /// `τ·G2`, compressed, hex.
    pub s_g2: String,
}

impl SrsHeader {
    /// The SRS fields as the labels digest sees them: blank (see [`VkHeader::labels_digest`]).
    pub fn unbound() -> Self {
        SrsHeader {
            insecure: false,
            k: 0,
            g1: String::new(),
            g2: String::new(),
            s_g2: String::new(),
        }
    }
}

impl VkHeader {
    /// The header of `graph` laid out with `params`, its SRS described by `srs`.
    pub fn for_model(graph: &QGraph, params: &CircuitParams, srs: SrsHeader) -> Self {
        let out = graph.output_tensor();
        VkHeader {
            circuit: params.clone(),
            input_shape: graph.input.shape.clone(),
            input_scale: graph.input.scale,
            input_bound: graph.input.bound,
            output_shape: out.map(|t| t.shape.clone()).unwrap_or_default(),
            output_scale: out.map_or(0, |t| t.scale),
            source_sha256: graph.source_sha256.clone(),
            weights_sha256: graph.weights_sha256.clone(),
            output_parts: graph.output_parts.clone(),
            input_visibility: graph.input_visibility,
            input_parts: if graph.input_part_visibility.is_empty() {
                Vec::new()
            } else {
                graph.input_parts.clone()
            },
            input_part_visibility: graph.input_part_visibility.clone(),
            output_visibility: graph.output_visibility,
            input_kinds: graph.input_kinds.clone(),
            param_visibility: graph.param_visibility,
            srs,
        }
    }

    /// The labels digest: Keccak-256 of the header's JSON with the SRS fields blanked, its
    /// first 31 bytes read as a little-endian field element. The circuit fixes this value in
    /// a constant cell copied to the last public value, so the verifying key's digest (which
    /// covers the fixed columns) identifies the labels too, and a header relabelled after
    /// setup (another scale, shape, part or visibility) makes every verifier, the EVM one
    /// included, reject its proofs: the verifier computes this instance from the header it
    /// holds. The SRS points are left out: the circuit cannot know them, and a wrong G2
    /// point fails the pairing anyway. With private or hashed parameters one key serves
    /// every weight set of the same widths, so the source and weights hashes (which name
    /// the set it was made with) are left out too.
    pub fn labels_digest(&self) -> Fr {
        let mut labels = self.clone();
        labels.srs = SrsHeader::unbound();
        if !labels.param_visibility.is_fixed() {
            labels.source_sha256.clear();
            labels.weights_sha256.clear();
        }
        let bytes = serde_json::to_vec(&labels).unwrap_or_default();
        let hash = Keccak256::digest(&bytes);
        let mut repr = <Fr as PrimeField>::Repr::default();
        for (dst, src) in repr.as_mut().iter_mut().zip(hash.iter().take(31)) {
            *dst = *src;
        }
        Option::from(Fr::from_repr(repr)).unwrap_or(Fr::zero())
    }

    /// Number of public values: the input's, then the output's (for each, its values, none,
    /// or its commitment), then the parameters' commitment when they are hashed, then the
    /// labels digest ([`VkHeader::labels_digest`]).
    pub fn instance_count(&self) -> usize {
        self.input_segments()
            .iter()
            .map(|s| s.visibility.instances(s.len()))
            .sum::<usize>()
            + self
                .output_visibility
                .instances(self.output_shape.iter().product::<usize>())
            + usize::from(self.param_visibility == zkinfer_ir::ParamVisibility::Hashed)
            + 1
    }
}

/// The labels digest of the key `graph` laid out with `params` gets (any SRS).
pub fn labels_digest_of(graph: &QGraph, params: &CircuitParams) -> Fr {
    VkHeader::for_model(graph, params, SrsHeader::unbound()).labels_digest()
}

impl VkHeader {
    /// The input's stretches with one visibility each, as the key's graph lays them out.
    pub fn input_segments(&self) -> Vec<zkinfer_ir::visibility::Segment> {
        zkinfer_ir::visibility::segments(
            &self.input_parts,
            &self.input_part_visibility,
            ("input", &self.input_shape),
            self.input_visibility,
        )
    }
}

/// Uncompressed point encodings for the header: coordinates as canonical little-endian field
/// bytes, hex. Decoding checks canonicity and the curve equation and never panics (the
/// compressed decoders of halo2curves can panic on hostile bytes).
pub mod points {
    use halo2_proofs::halo2curves::bn256::{Fq, Fq2, G1Affine, G2Affine};
    use halo2_proofs::halo2curves::ff::PrimeField;
    use halo2_proofs::halo2curves::{Coordinates, CurveAffine};

    fn fq(bytes: &[u8]) -> Option<Fq> {
        let repr: [u8; 32] = bytes.try_into().ok()?;
        Option::from(Fq::from_repr(repr))
    }

    /// `x ‖ y` (64 bytes) as hex.
    pub fn encode_g1(p: &G1Affine) -> String {
        let c: Option<Coordinates<G1Affine>> = p.coordinates().into();
        c.map(|c| hex::encode([c.x().to_repr(), c.y().to_repr()].concat()))
            .unwrap_or_default()
    }

    /// Parses [`encode_g1`]'s output; `None` unless it is a point on the curve.
    pub fn decode_g1(s: &str) -> Option<G1Affine> {
        let b = hex::decode(s).ok()?;
        let (x, y) = (fq(b.get(..32)?)?, fq(b.get(32..64)?)?);
        if b.len() != 64 {
            return None;
        }
        Option::from(G1Affine::from_xy(x, y))
    }

    /// `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` (128 bytes) as hex.
    pub fn encode_g2(p: &G2Affine) -> String {
        let c: Option<Coordinates<G2Affine>> = p.coordinates().into();
        c.map(|c| {
            let (x, y) = (c.x(), c.y());
            hex::encode(
                [
                    x.c0.to_repr(),
                    x.c1.to_repr(),
                    y.c0.to_repr(),
                    y.c1.to_repr(),
                ]
                .concat(),
            )
        })
        .unwrap_or_default()
    }

    /// Parses [`encode_g2`]'s output; `None` unless it is a point on the curve.
    pub fn decode_g2(s: &str) -> Option<G2Affine> {
        let b = hex::decode(s).ok()?;
        if b.len() != 128 {
            return None;
        }
        let x = Fq2::new(fq(b.get(..32)?)?, fq(b.get(32..64)?)?);
        let y = Fq2::new(fq(b.get(64..96)?)?, fq(b.get(96..128)?)?);
        Option::from(G2Affine::from_xy(x, y))
    }

    #[cfg(test)]
    mod tests {
        use halo2_proofs::halo2curves::bn256::Fr;
        use halo2_proofs::halo2curves::group::Curve;

        use super::*;

        #[test]
        fn round_trip_and_reject_garbage() {
            let g1 = (G1Affine::generator() * Fr::from(9u64)).to_affine();
            let g2 = (G2Affine::generator() * Fr::from(9u64)).to_affine();
            assert_eq!(decode_g1(&encode_g1(&g1)), Some(g1));
            assert_eq!(decode_g2(&encode_g2(&g2)), Some(g2));
            let mut bad = encode_g2(&g2);
            bad.replace_range(0..2, "00");
            assert_eq!(decode_g2(&bad), None);
            assert_eq!(decode_g1(&"ff".repeat(64)), None);
            assert_eq!(decode_g1("zz"), None);
            assert_eq!(decode_g2(&"00".repeat(127)), None);
            // Every single-byte change of a G2 encoding is rejected or decodes without panicking.
            let good = hex::decode(encode_g2(&g2)).expect("hex");
            for i in 0..good.len() {
                for v in [0u8, 1, 0x80, 0xff] {
                    let mut t = good.clone();
                    t[i] = v;
                    let _ = decode_g2(&hex::encode(&t));
                }
            }
        }
    }
}
