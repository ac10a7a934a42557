//! The values an input compiled with bound `B` may take: the one rule the reference
//! semantics, the circuit, the commitments and the verifier share.
//!
//! A bound is a static fact for every later node: `|x| <= B`. The circuit checks it with
//! range rows. A power-of-two bound `B = 2^m` takes one row per element, `x + B ∈ [0, 2B)`,
//! which admits `[-B, B - 1]`, inside `|x| <= B`; any other bound takes two rows (`x + B`
//! and `B - x` in `[0, 2^bits(2B))`) and admits `[-B, B]`. The compiler rounds input bounds up
//! to powers of two, so inputs cost one row each.

/// Whether `bound` is checked in one row per element (a power of two).
pub fn one_row(bound: u64) -> bool {
    bound.is_power_of_two()
}

/// The smallest and largest value admitted under `bound` (the largest is `bound - 1` for a
/// one-row bound, `bound` otherwise).
pub fn range(bound: u64) -> (i128, i128) {
    let b = i128::from(bound);
    (-b, if one_row(bound) { b - 1 } else { b })
}

/// Whether `value` is admitted under `bound`.
pub fn admits(bound: u64, value: i64) -> bool {
    let (lo, hi) = range(bound);
    (lo..=hi).contains(&i128::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_of_two_admits_one_less_above() {
        assert_eq!(range(8), (-8, 7));
        assert!(admits(8, -8) && admits(8, 7) && !admits(8, 8) && !admits(8, -9));
    }

    #[test]
    fn another_bound_is_symmetric() {
        assert_eq!(range(50), (-50, 50));
        assert!(admits(50, 50) && admits(50, -50) && !admits(50, 51));
        assert_eq!(range(0), (0, 0));
        assert!(admits(0, 0) && !admits(0, 1));
        assert!(!admits(1 << 62, i64::MIN) && admits(1 << 62, -(1 << 62)));
    }
}
