//! Shape arithmetic: element counts and numpy-style broadcasting.

/// Largest element count accepted for any tensor (guards against absurd shapes in a file).
pub(crate) const MAX_NUMEL: usize = 1 << 26;

/// Product of `dims`, or `None` on overflow or above [`MAX_NUMEL`].
pub(crate) fn checked_numel(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_NUMEL)
}

/// The numpy broadcast of two shapes, or `None` when they are incompatible.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], k: usize| {
        // k counts from the last axis.
        if k < s.len() {
            s.get(s.len() - 1 - k).copied()
        } else {
            Some(1)
        }
    };
    let mut out = vec![0; rank];
    for k in 0..rank {
        let (x, y) = (dim(a, k)?, dim(b, k)?);
        let d = match (x, y) {
            _ if x == y => x,
            (1, _) => y,
            (_, 1) => x,
            _ => return None,
        };
        *out.get_mut(rank - 1 - k)? = d;
    }
    Some(out)
}

/// Broadcasts row-major `data` of shape `from` to shape `to` (numpy rules, one direction).
/// Returns `None` when `from` does not broadcast to exactly `to` or the data length is wrong.
pub(crate) fn broadcast_to<T: Copy>(data: &[T], from: &[usize], to: &[usize]) -> Option<Vec<T>> {
    if broadcast_shape(from, to)?.as_slice() != to || checked_numel(from)? != data.len() {
        return None;
    }
    let numel = checked_numel(to)?;
    // Source stride for each output axis (0 where `from` is broadcast).
    let offset = to.len() - from.len();
    let mut strides = vec![0usize; to.len()];
    let mut acc = 1usize;
    for (k, &d) in from.iter().enumerate().rev() {
        if d != 1 {
            *strides.get_mut(offset + k)? = acc;
        }
        acc *= d;
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; to.len()];
    for _ in 0..numel {
        let src: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(*data.get(src)?);
        // Advance the multi-index, last axis fastest.
        for (i, &d) in index.iter_mut().zip(to).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    Some(out)
}

/// Resolves a possibly negative `axis` against `rank` (valid range `-rank..rank`).
pub(crate) fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = i64::try_from(rank).ok()?;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        usize::try_from(a).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[2, 1], &[1, 4]), Some(vec![2, 4]));
        assert_eq!(broadcast_shape(&[2, 3], &[4]), None);
        assert_eq!(
            broadcast_to(&[1, 2, 3], &[3], &[2, 3]),
            Some(vec![1, 2, 3, 1, 2, 3])
        );
        assert_eq!(
            broadcast_to(&[1, 2], &[2, 1], &[2, 3]),
            Some(vec![1, 1, 1, 2, 2, 2])
        );
        assert_eq!(broadcast_to(&[5], &[], &[2]), Some(vec![5, 5]));
        assert_eq!(broadcast_to(&[1, 2], &[2], &[3, 4]), None);
        assert_eq!(broadcast_to(&[1, 2], &[2, 3], &[3]), None);
        assert_eq!(normalize_axis(-1, 3), Some(2));
        assert_eq!(normalize_axis(3, 3), None);
        assert_eq!(checked_numel(&[usize::MAX, 2]), None);
    }
}
