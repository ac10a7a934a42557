//! Graph builders and the conformance check shared by the integration tests.
#![allow(dead_code)]

#[macro_use]
mod macros;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_ir::geometry::ConvGeom;
use zkinfer_ir::semantics::{self, Trace};
use zkinfer_ir::{EvalError, QGraph, QNode, QOp, QTensor, Table};
use zkinfer_runtime::{Device, RuntimeError};

pub use zkinfer_ir::testkit::{graph, node, qtensor};

/// Random inputs per conformance case (the extremes come on top).
pub const RANDOM_INPUTS: usize = 50;

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform in `[-bound, bound]`, clipped to the i64 range.
pub fn sample(rng: &mut ChaCha8Rng, bound: u64) -> i64 {
    let b = i128::from(bound);
    let v = rng.gen_range(-b..=b);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

pub fn random_vec(rng: &mut ChaCha8Rng, len: usize, bound: u64) -> Vec<i64> {
    (0..len).map(|_| sample(rng, bound)).collect()
}

/// `+bound` and `-bound` as i64 (clipped to the i64 range).
pub fn extremes(bound: u64) -> (i64, i64) {
    let hi = i64::try_from(bound).unwrap_or(i64::MAX);
    let lo = i64::try_from(-i128::from(bound)).unwrap_or(i64::MIN);
    (hi, lo)
}

/// Worst case of `|acc|` of a linear layer, as the compiler would bound it.
pub fn linear_bound(weight: &[i64], bias: &[i64], n_in: usize, in_bound: u64) -> u64 {
    let worst = weight
        .chunks_exact(n_in)
        .zip(bias)
        .map(|(row, b)| {
            row.iter().fold(i128::from(b.unsigned_abs()), |acc, w| {
                acc + i128::from(w.unsigned_abs()) * i128::from(in_bound)
            })
        })
        .max()
        .unwrap_or(0);
    u64::try_from(worst).expect("linear bound fits in u64")
}

/// Worst case of a rescale: it is monotone, so it is reached at `±in_bound`.
pub fn rescale_bound(in_bound: u64, shift: u32) -> u64 {
    let (hi, lo) = extremes(in_bound);
    semantics::rescale(hi, shift)
        .unsigned_abs()
        .max(semantics::rescale(lo, shift).unsigned_abs())
}

/// A linear node reading tensor `input` with random weights and biases.
pub fn linear_node(
    rng: &mut ChaCha8Rng,
    name: &str,
    input: (usize, &QTensor),
    (n_out, w_bound, b_bound): (usize, u64, u64),
) -> QNode {
    let (id, x) = input;
    let n_in = *x.shape.last().expect("input has an axis");
    let weight = random_vec(rng, n_in * n_out, w_bound);
    let bias = random_vec(rng, n_out, b_bound);
    let bound = linear_bound(&weight, &bias, n_in, x.bound);
    let mut shape = x.shape.clone();
    *shape.last_mut().expect("input has an axis") = n_out;
    let out = qtensor(&shape, x.scale + 8, bound);
    let op = QOp::Linear {
        weight,
        bias,
        n_in,
        n_out,
    };
    node(name, op, &[id], out)
}

/// A rescale node reading tensor `input`.
pub fn rescale_node(name: &str, input: (usize, &QTensor), shift: u32) -> QNode {
    let (id, x) = input;
    let out = qtensor(
        &x.shape,
        x.scale.saturating_sub(shift),
        rescale_bound(x.bound, shift),
    );
    node(name, QOp::Rescale { shift }, &[id], out)
}

/// A convolution node reading tensor `input` (`[C, H, W]`) with random weights and biases.
/// Its bound is the linear worst case over each output channel's weights.
pub fn conv_node(
    rng: &mut ChaCha8Rng,
    name: &str,
    input: (usize, &QTensor),
    geom: ConvGeom,
    (w_bound, b_bound): (u64, u64),
) -> QNode {
    let (id, x) = input;
    assert!(geom.is_valid(), "{geom:?}");
    assert_eq!(x.numel(), geom.in_numel());
    let weight = random_vec(rng, geom.weight_len(), w_bound);
    let bias = random_vec(rng, geom.out_channels, b_bound);
    let taps = geom.channels_per_group() * geom.window();
    let bound = linear_bound(&weight, &bias, taps, x.bound);
    let out = qtensor(&geom.out_shape(), x.scale + 8, bound);
    node(name, QOp::Conv { weight, bias, geom }, &[id], out)
}

/// A `Select` node taking `shape.product()` consecutive values of tensor `input` from `start`.
pub fn slice_node(name: &str, input: (usize, &QTensor), start: usize, shape: &[usize]) -> QNode {
    let (id, x) = input;
    let len: usize = shape.iter().product();
    let index = (start..start + len).collect();
    node(
        name,
        QOp::Select { index },
        &[id],
        qtensor(shape, x.scale, x.bound),
    )
}

/// A table over `[lo, lo + len)` with random values of magnitude at most `value_bound`.
pub fn random_table(
    rng: &mut ChaCha8Rng,
    name: &str,
    lo: i64,
    len: usize,
    value_bound: u64,
) -> Table {
    Table {
        name: name.to_string(),
        in_scale: 8,
        out_scale: 12,
        lo,
        values: random_vec(rng, len, value_bound),
    }
}

/// The seeded random inputs plus the all-highest, all-lowest and alternating inputs the
/// graph admits (`zkinfer_ir::input_range`: `[-B, B - 1]` for a power-of-two bound).
pub fn inputs(graph: &QGraph, seed: u64) -> Vec<Vec<i64>> {
    let n = graph.input.numel();
    let (lo, hi) = zkinfer_ir::input_range::range(graph.input.bound);
    let (lo, hi) = (
        lo.clamp(i128::from(i64::MIN), 0) as i64,
        hi.clamp(0, i128::from(i64::MAX)) as i64,
    );
    let mut rng = rng(seed);
    let mut out: Vec<Vec<i64>> = (0..RANDOM_INPUTS)
        .map(|_| (0..n).map(|_| rng.gen_range(lo..=hi)).collect())
        .collect();
    out.push(vec![hi; n]);
    out.push(vec![lo; n]);
    out.push((0..n).map(|i| if i % 2 == 0 { hi } else { lo }).collect());
    out
}

/// Values `k * 2^shift - 2^(shift-1) + d` (the exact half-way points, `d = 0`, and their
/// neighbours) within `bound`, packed into inputs of `n` values.
pub fn halfway_inputs(shift: u32, bound: u64, n: usize) -> Vec<Vec<i64>> {
    let step = 1i128 << shift;
    let half = 1i128 << (shift - 1);
    let b = i128::from(bound);
    let mut values = Vec::new();
    let k_max = (b / step + 1).min(4);
    for k in -k_max..=k_max {
        let edge = b / step * step;
        for base in [k * step - half, edge - half, edge + half, half - edge] {
            for d in -1..=1 {
                let v = base + d;
                if v.abs() <= b && zkinfer_ir::input_range::admits(bound, v as i64) {
                    values.push(v as i64);
                }
            }
        }
    }
    values
        .chunks(n)
        .map(|c| {
            let mut v = c.to_vec();
            v.resize(n, 0);
            v
        })
        .collect()
}

/// Asserts that the candle runtime reproduces `graph.eval` bit for bit on every input.
pub fn assert_conforms(graph: &QGraph, inputs: &[Vec<i64>], device: &Device) {
    assert!(!inputs.is_empty());
    for (i, input) in inputs.iter().enumerate() {
        let want: Trace = graph.eval(input).expect("reference evaluation");
        let got = zkinfer_runtime::run(graph, input, device)
            .unwrap_or_else(|e| panic!("input #{i} on {device:?}: {e}"));
        assert_eq!(got.tensors.len(), graph.nodes.len() + 1);
        assert_eq!(got, want, "input #{i} on {device:?}: {input:?}");
    }
}

/// Asserts that the runtime rejects `input` with the reference's own error, as
/// [`RuntimeError::Input`], and that the message names `node`.
pub fn assert_same_error(graph: &QGraph, input: &[i64], node: &str, device: &Device) -> EvalError {
    let want = graph
        .eval(input)
        .expect_err("the reference rejects this input");
    let got = match zkinfer_runtime::run(graph, input, device) {
        Ok(_) => panic!("the runtime accepts {input:?} on {device:?}, the reference says {want}"),
        Err(e) => e,
    };
    match &got {
        RuntimeError::Input(inner) => assert_eq!(inner, &want, "{input:?} on {device:?}"),
        other => panic!("expected {want:?} on {device:?}, got {other:?}"),
    }
    let msg = got.to_string();
    assert_eq!(msg, want.to_string());
    assert!(msg.contains(&format!("`{node}`")), "{msg}");
    want
}

/// Stable seed from a test name.
pub fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
