//! Shape arithmetic: element counts and numpy-style broadcasting.

use super::error::ImportError;
use super::node::NodeCtx;

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

/// Writes the row-major multi-index of flat position `pos` in `dims` into `out`.
pub(crate) fn unravel(mut pos: usize, dims: &[usize], out: &mut [usize]) {
    for (o, &d) in out.iter_mut().zip(dims).rev() {
        let d = d.max(1);
        *o = pos % d;
        pos /= d;
    }
}

/// Row-major strides of `dims`.
pub(crate) fn strides(dims: &[usize]) -> Vec<usize> {
    let mut out = vec![1usize; dims.len()];
    let mut acc = 1usize;
    for (s, &d) in out.iter_mut().zip(dims).rev() {
        *s = acc;
        acc = acc.saturating_mul(d);
    }
    out
}

/// Flat positions `base + Σ i_k * steps[k]` for every multi-index `i` over `sizes` (row-major).
/// `None` when a position is negative or the element count is too large.
pub(crate) fn strided(base: i64, sizes: &[usize], steps: &[i64]) -> Option<Vec<usize>> {
    let n = checked_numel(sizes)?;
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; sizes.len()];
    let mut pos = base;
    for _ in 0..n {
        out.push(usize::try_from(pos).ok()?);
        for ((i, &d), &s) in idx.iter_mut().zip(sizes).zip(steps).rev() {
            *i += 1;
            pos += s;
            if *i < d {
                break;
            }
            pos -= s * i64::try_from(d).ok()?;
            *i = 0;
        }
    }
    Some(out)
}

/// Index map of `transpose(x, perm)` for `x` of shape `dims` (`perm` is a valid permutation).
pub(crate) fn transpose_index(dims: &[usize], perm: &[usize]) -> Option<Vec<usize>> {
    let src = strides(dims);
    let sizes: Vec<usize> = perm
        .iter()
        .map(|&p| dims.get(p).copied())
        .collect::<Option<_>>()?;
    let steps: Vec<i64> = perm
        .iter()
        .map(|&p| src.get(p).and_then(|&s| i64::try_from(s).ok()))
        .collect::<Option<_>>()?;
    strided(0, &sizes, &steps)
}

/// Permutation moving axis `axis` of a rank-`rank` tensor to the end.
pub(crate) fn axis_to_last(axis: usize, rank: usize) -> Vec<usize> {
    (0..rank).filter(|&k| k != axis).chain([axis]).collect()
}

/// The inverse of permutation `perm`.
pub(crate) fn inverse_perm(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        if let Some(slot) = inv.get_mut(p) {
            *slot = k;
        }
    }
    inv
}

/// `dims` permuted by `perm`.
pub(crate) fn permute(dims: &[usize], perm: &[usize]) -> Vec<usize> {
    perm.iter()
        .map(|&p| dims.get(p).copied().unwrap_or(1))
        .collect()
}

/// Permutation index swapping the last two axes of `dims`.
pub(crate) fn swap_last_two(ctx: &NodeCtx<'_>, dims: &[usize]) -> Result<Vec<usize>, ImportError> {
    let r = dims.len();
    let mut perm: Vec<usize> = (0..r).collect();
    if r >= 2 {
        perm.swap(r - 2, r - 1);
    }
    transpose_index(dims, &perm).ok_or_else(|| ctx.shape_err(format!("cannot transpose {dims:?}")))
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

    #[test]
    fn index_maps() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        // [2, 3] -> [3, 2]
        assert_eq!(
            transpose_index(&[2, 3], &[1, 0]),
            Some(vec![0, 3, 1, 4, 2, 5])
        );
        assert_eq!(
            transpose_index(&[1, 2, 2], &[0, 2, 1]),
            Some(vec![0, 2, 1, 3])
        );
        assert_eq!(strided(5, &[3], &[-2]), Some(vec![5, 3, 1]));
        assert_eq!(strided(0, &[2], &[-1]), None);
        let p = axis_to_last(1, 4);
        assert_eq!(p, vec![0, 2, 3, 1]);
        assert_eq!(inverse_perm(&p), vec![0, 3, 1, 2]);
        assert_eq!(permute(&[5, 6, 7, 8], &p), vec![5, 7, 8, 6]);
    }
}
