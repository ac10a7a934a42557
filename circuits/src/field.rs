//! The field embedding of ARCHITECTURE.md section 3: `q ↦ q mod p`, negatives wrap.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

/// Embeds a signed integer in the BN254 scalar field.
pub fn fr_from_i64(v: i64) -> Fr {
    let m = Fr::from(v.unsigned_abs());
    if v < 0 {
        -m
    } else {
        m
    }
}

/// Embeds a signed 128-bit integer in the BN254 scalar field.
pub fn fr_from_i128(v: i128) -> Fr {
    let lo = v.unsigned_abs() as u64;
    let hi = (v.unsigned_abs() >> 64) as u64;
    let m = Fr::from(hi) * Fr::from_u128(1u128 << 64) + Fr::from(lo);
    if v < 0 {
        -m
    } else {
        m
    }
}

/// `2^e` as a field element.
pub fn pow2(e: u32) -> Fr {
    fr_from_i128(1i128 << e.min(126))
}

/// Reads back a field element that embeds an integer of magnitude below 2^63.
/// Returns `None` for elements that are not such an embedding.
pub fn i64_from_fr(f: &Fr) -> Option<i64> {
    let small = |x: &Fr| -> Option<u64> {
        let repr = x.to_repr();
        let bytes = repr.as_ref();
        if bytes.get(8..)?.iter().any(|&b| b != 0) {
            return None;
        }
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes.get(..8)?);
        let v = u64::from_le_bytes(le);
        (v < (1 << 63)).then_some(v)
    };
    if let Some(v) = small(f) {
        return i64::try_from(v).ok();
    }
    small(&-*f).and_then(|v| i64::try_from(v).ok()).map(|v| -v)
}

/// Bits of `bound`: the smallest `b` with `bound < 2^b`.
pub fn bits(bound: u64) -> u32 {
    u64::BITS - bound.leading_zeros()
}

/// Bits needed to check `y + bound ∈ [0, 2^b)` for `|y| <= bound`.
pub fn signed_bits(bound: u64) -> u32 {
    bits(bound.saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_round_trips() {
        for v in [0i64, 1, -1, 12345, -98765, i64::MAX, -i64::MAX] {
            assert_eq!(i64_from_fr(&fr_from_i64(v)), Some(v));
            assert_eq!(fr_from_i128(i128::from(v)), fr_from_i64(v));
        }
        assert_eq!(fr_from_i64(-3) + Fr::from(3u64), Fr::zero());
        assert_eq!(pow2(10), Fr::from(1024u64));
        assert_eq!(i64_from_fr(&Fr::from_u128(1u128 << 100)), None);
    }
}
