//! The parameter rows of a circuit whose weights and constants are advice (private or
//! hashed parameters): each value checked once, then copied wherever a layout reads it
//! (`NodeCtx::params`); with hashed parameters, their commitment.

use halo2_proofs::circuit::Cell;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_ir::QGraph;

use crate::chips::add::ArithCoefs;
use crate::config::ModelConfig;
use crate::error::LayoutFault;
use crate::field::fr_from_i64;
use crate::field::signed_bits;
use crate::lay::commit::lay_commitment;
use crate::lay::ctx::Walk;
use crate::lay::range_row::both_sides;

/// The checked parameter cells of an advice-parameter circuit.
pub(crate) struct ParamBlock {
    /// A cell the arithmetic gate pins to 0.
    pub(crate) zero: Cell,
    /// Per node, the cells of each of its parameter tensors.
    pub(crate) by_node: Vec<Vec<Vec<Cell>>>,
}

/// The parameter rows: a zero row (an arithmetic row with every coefficient 0 pins its
/// output to 0), then two range rows per parameter value `v` of tensor bound `B` on one
/// cell, checking `v + B ∈ [0, 2^b)` and `B - v ∈ [0, 2^b)` with `b = bits(2B)`: exactly
/// `|v| <= B`, wide enough to make the commitment's packing injective and to keep every sum
/// far from the modulus. The values are advice: another weight set of the same widths
/// satisfies the same key. A structural tensor's values (constants the compiler emitted, see
/// [`zkinfer_ir::QNode::structural`]) get one arithmetic row each whose fixed constant pins the
/// cell to the value: they are in the key, whatever the visibility.
pub(crate) fn lay_params(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
) -> Result<ParamBlock, LayoutFault> {
    let row = walk.take(1);
    let zero = config
        .add
        .assign_arith(walk.region, row, ArithCoefs::default(), Some((0, 0, 0)))?
        .out;
    let mut by_node = vec![Vec::new(); graph.nodes.len()];
    for t in graph.param_tensors() {
        let bound = i128::from(t.bound);
        let bits = signed_bits(t.bound);
        // Two rows per value on one cell, `v + B` and `B - v`: exactly `|v| <= B`.
        let cells = t
            .values
            .iter()
            .map(|&v| {
                if t.structural {
                    return pinned(config, walk, v);
                }
                Ok(both_sides(&config.range, walk, Some(v), bound, bits)?.0)
            })
            .collect::<Result<Vec<_>, LayoutFault>>()?;
        if let Some(list) = by_node.get_mut(t.node) {
            list.push(cells);
        }
    }
    Ok(ParamBlock { zero, by_node })
}

/// One arithmetic row `out = v` (every coefficient 0, the constant `v` fixed): a cell the
/// prover cannot move.
fn pinned(config: &ModelConfig, walk: &mut Walk<'_, '_>, v: i64) -> Result<Cell, LayoutFault> {
    let row = walk.take(1);
    Ok(config
        .add
        .assign_constant(walk.region, row, fr_from_i64(v))?)
}

/// The commitment to every parameter tensor, chained as [`crate::poseidon::commit_params`]
/// says; returns its cell (the zero cell for a model without parameters).
pub(crate) fn lay_params_commitment(
    config: &ModelConfig,
    walk: &mut Walk<'_, '_>,
    graph: &QGraph,
    block: &ParamBlock,
) -> Result<Cell, LayoutFault> {
    let mut h: Option<(Cell, Option<Fr>)> = None;
    let tensors = graph.param_tensors();
    let mut cells_of = block.by_node.iter().flat_map(|n| n.iter());
    for t in &tensors {
        let cells = cells_of
            .next()
            .ok_or(LayoutFault::Parameter("a parameter tensor without cells"))?;
        let cell = lay_commitment(config, walk, cells, t.bound, Some(t.values), h)?;
        let prev = h.and_then(|(_, v)| v).unwrap_or(Fr::zero());
        h = Some((cell, Some(crate::poseidon::commit(t.values, t.bound, prev))));
    }
    Ok(h.map_or(block.zero, |(c, _)| c))
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::geometry::ConvGeom;
    use zkinfer_ir::{ParamVisibility, QGraph, QOp};

    use crate::testing::*;

    const MODES: [ParamVisibility; 2] = [ParamVisibility::Private, ParamVisibility::Hashed];

    fn with(mut g: QGraph, mode: ParamVisibility) -> QGraph {
        g.param_visibility = mode;
        g
    }

    fn linear(mode: ParamVisibility) -> Fixture {
        let (n_in, n_out) = (7, 3);
        let op = QOp::Linear {
            weight: random_ints(n_in * n_out, 50, 1),
            bias: random_ints(n_out, 500, 2),
            n_in,
            n_out,
        };
        let g = single_op(op, n_in, 20, n_out, 50 * 20 * 7 + 500, 1);
        fixture_of(with(g, mode), random_ints(n_in, 20, 3))
    }

    fn conv(mode: ParamVisibility) -> Fixture {
        let geom = ConvGeom {
            in_channels: 2,
            in_h: 4,
            in_w: 4,
            out_channels: 2,
            kernel: [3, 3],
            stride: [1, 1],
            pads: [1, 1, 1, 1],
            dilation: [1, 1],
            groups: 1,
        };
        let op = QOp::Conv {
            weight: random_ints(geom.weight_len(), 20, 4),
            bias: random_ints(2, 300, 5),
            geom: geom.clone(),
        };
        let g = single_op(
            op,
            geom.in_numel(),
            30,
            geom.out_numel(),
            20 * 18 * 30 + 300,
            1,
        );
        fixture_of(with(g, mode), random_ints(geom.in_numel(), 30, 6))
    }

    fn mul_const(mode: ParamVisibility) -> Fixture {
        let op = QOp::MulConst {
            factor: random_ints(6, 30, 7),
        };
        let g = single_op(op, 6, 100, 6, 3000, 1);
        fixture_of(with(g, mode), random_ints(6, 100, 8))
    }

    fn add_constant(mode: ParamVisibility, operands: usize) -> Fixture {
        let op = QOp::Add {
            coef_a: 2,
            coef_b: i64::from(operands == 2),
            constant: random_ints(4, 40, 9),
        };
        let g = if operands == 2 {
            two_operands(op, 4, 4, 50, 4, 200)
        } else {
            single_op(op, 4, 50, 4, 200, 1)
        };
        let n = g.input.numel();
        fixture_of(with(g, mode), random_ints(n, 50, 10))
    }

    fn every_fixture(mode: ParamVisibility) -> Vec<(&'static str, Fixture)> {
        vec![
            ("linear", linear(mode)),
            ("conv", conv(mode)),
            ("mul_const", mul_const(mode)),
            ("add, one operand", add_constant(mode, 1)),
            ("add, two operands", add_constant(mode, 2)),
        ]
    }

    #[test]
    fn advice_parameters_prove_every_op_that_reads_them() {
        for mode in MODES {
            for (name, f) in every_fixture(mode) {
                assert!(f.params.optional.advice_params, "{name}");
                assert_eq!(f.mock(None), Ok(()), "{name}, {mode}");
                let wrong = output_with(&f, 1, 1);
                assert!(
                    f.mock_with_output(None, &wrong).is_err(),
                    "{name}, {mode}: a wrong output passes"
                );
            }
        }
    }

    #[test]
    fn the_weights_are_advice_so_the_key_does_not_hold_them() {
        // Two weight sets of the same widths give the same circuit: same fixed columns,
        // hence the same verifying key.
        let a = linear(ParamVisibility::Private);
        let mut g = (*a.graph).clone();
        if let QOp::Linear { weight, .. } = &mut g.nodes[0].op {
            weight[0] = if weight[0] > 0 {
                weight[0] - 1
            } else {
                weight[0] + 1
            };
        }
        assert_eq!(crate::plan::plan(&g).unwrap().params, a.params);
        let b = fixture_of(g, a.input.clone());
        assert_eq!(b.mock(None), Ok(()));
        assert_eq!(verifying_key(&a), verifying_key(&b));
        // With fixed weights the same change is a different key.
        let fixed = |f: &Fixture| {
            let g = with((*f.graph).clone(), ParamVisibility::Fixed);
            fixture_of(g, f.input.clone())
        };
        assert_ne!(verifying_key(&fixed(&a)), verifying_key(&fixed(&b)));
    }

    /// The verifying key of `f` (fixed columns, permutation, constraint system), serialized.
    fn verifying_key(f: &Fixture) -> Vec<u8> {
        use halo2_proofs::halo2curves::bn256::Bn256;
        use halo2_proofs::poly::kzg::commitment::ParamsKZG;
        let srs = ParamsKZG::<Bn256>::setup(f.params.k, seeded(1));
        let circuit = crate::ModelCircuit::keygen(f.graph.clone(), f.params.clone());
        let vk = halo2_proofs::plonk::keygen_vk(&srs, &circuit).unwrap();
        let mut bytes = Vec::new();
        vk.write(&mut bytes, halo2_proofs::SerdeFormat::RawBytes)
            .unwrap();
        bytes
    }

    /// [`linear`] with its node marked structural (constants the compiler emitted).
    fn structural_linear() -> Fixture {
        let f = linear(ParamVisibility::Private);
        let mut g = (*f.graph).clone();
        g.nodes[0].structural = true;
        fixture_of(g, f.input.clone())
    }

    #[test]
    fn structural_constants_take_one_pinned_row_each_and_are_in_the_key() {
        let f = structural_linear();
        assert_eq!(f.mock(None), Ok(()));
        // The block: the zero row and one row per value (7·3 weights, 3 biases).
        let (_, block) = crate::plan::tail_rows(&f.graph, 0)
            .into_iter()
            .find(|(name, _)| name.contains("parameter"))
            .expect("a parameter block");
        assert_eq!(block.rows, 1 + 7 * 3 + 3);
        // Unlike trained weights, another value is another key.
        let mut g = (*f.graph).clone();
        if let QOp::Linear { weight, .. } = &mut g.nodes[0].op {
            weight[0] += if weight[0] > 0 { -1 } else { 1 };
        }
        let other = fixture_of(g, f.input.clone());
        assert_eq!(other.mock(None), Ok(()));
        assert_ne!(verifying_key(&f), verifying_key(&other));
    }

    #[test]
    fn a_structural_weight_other_than_the_pinned_one_breaks_its_copy() {
        let f = structural_linear();
        let c = Corruption {
            node: 0,
            element: 0,
            kind: CorruptionKind::ParamWeight(3),
        };
        let mut out = f.trace.get(f.graph.output).unwrap().to_vec();
        out[0] += 3 * f.input[0];
        assert_copy_failure(f.mock_with_output(Some(c), &out), f.params.pool_width(), 0);
    }

    #[test]
    fn a_weight_other_than_the_checked_one_breaks_its_copy() {
        let f = linear(ParamVisibility::Private);
        // The first weight of output 0 plus 3, sums recomputed: the linear gate holds, the
        // copy of that weight cell (first weight column, the dot's first row) does not.
        let c = Corruption {
            node: 0,
            element: 0,
            kind: CorruptionKind::ParamWeight(3),
        };
        let mut out = f.trace.get(f.graph.output).unwrap().to_vec();
        out[0] += 3 * f.input[0];
        let result = f.mock_with_output(Some(c), &out);
        assert_copy_failure(result, f.params.pool_width(), 0);
    }

    #[test]
    fn grouped_outputs_bind_each_weight_and_pin_the_idle_accumulator() {
        // 3 outputs over 2 accumulators: the second group has one idle accumulator, whose
        // advice weights and bias are copied from the zero cell.
        for mode in [ParamVisibility::Private, ParamVisibility::Hashed] {
            let f = with_shape(linear(mode), 4, 2);
            assert_eq!(f.mock(None), Ok(()), "{mode:?}");
        }
        let f = with_shape(linear(ParamVisibility::Private), 4, 2);
        // Output 2 is the second group's first accumulator: its first weight (weight column
        // 0 of accumulator 0) on the group's first row (row 2: each group takes 2 rows).
        let c = Corruption {
            node: 0,
            element: 2,
            kind: CorruptionKind::ParamWeight(3),
        };
        let mut out = f.trace.get(f.graph.output).unwrap().to_vec();
        out[2] += 3 * f.input[0];
        let result = f.mock_with_output(Some(c), &out);
        assert_copy_failure(result, f.params.pool_width(), 2);
        // Output 1 is the first group's second accumulator: its weights sit in columns
        // pool_width + 4.. (after accumulator 0's four).
        let c = Corruption {
            node: 0,
            element: 1,
            kind: CorruptionKind::ParamWeight(3),
        };
        let mut out = f.trace.get(f.graph.output).unwrap().to_vec();
        out[1] += 3 * f.input[0];
        let result = f.mock_with_output(Some(c), &out);
        assert_copy_failure(result, f.params.pool_width() + 4, 0);
        // The idle accumulator of the second group given weight 5 on its first lane (its
        // running sums follow, the outputs do not change): only that weight's copy from the
        // zero cell (accumulator 1's first weight column, the group's first row) objects.
        let c = Corruption {
            node: 0,
            element: 2,
            kind: CorruptionKind::IdleWeight(5),
        };
        let out = f.trace.get(f.graph.output).unwrap().to_vec();
        let result = f.mock_with_output(Some(c), &out);
        assert_copy_failure(result, f.params.pool_width() + 4, 2);
    }

    #[test]
    fn a_padding_weight_is_pinned_to_zero() {
        // 7 inputs over 4 lanes: the second row of each dot has one padding lane.
        let f = with_lanes(linear(ParamVisibility::Private), 4);
        assert_eq!(f.mock(None), Ok(()));
        // Padding lane x = 1, w = 5, accumulator + 5: the gate holds; the copy of that weight
        // cell (weight column 3, the dot's second row) to the zero cell does not.
        let c = Corruption {
            node: 0,
            element: 0,
            kind: CorruptionKind::ParamPad(5),
        };
        let mut out = f.trace.get(f.graph.output).unwrap().to_vec();
        out[0] += 5;
        let result = f.mock_with_output(Some(c), &out);
        assert_copy_failure(result, f.params.pool_width() + 3, 1);
    }

    #[test]
    fn the_commitment_is_the_native_one_and_binds_the_weights() {
        let f = linear(ParamVisibility::Hashed);
        let out = f.trace.get(f.graph.output).unwrap().to_vec();
        let mut instances =
            crate::public_values_of(&f.graph, &f.params, &f.input, &out, Default::default());
        let h = crate::poseidon::commit_params(&f.graph);
        let labels = crate::vk_header::labels_digest_of(&f.graph, &f.params);
        assert_eq!(
            instances.iter().rev().take(2).collect::<Vec<_>>(),
            [&labels, &h]
        );
        let circuit = crate::circuit::ModelCircuit::with_trace(
            f.graph.clone(),
            f.params.clone(),
            f.trace.clone(),
        );
        let run = |instances: Vec<_>| {
            halo2_proofs::dev::MockProver::run(f.params.k, &circuit, vec![instances])
                .unwrap()
                .verify()
        };
        assert_eq!(run(instances.clone()), Ok(()));
        // Another weight set's commitment: only the instance copy objects.
        let mut g = (*f.graph).clone();
        if let QOp::Linear { weight, .. } = &mut g.nodes[0].op {
            weight[2] += 1;
        }
        let other = crate::poseidon::commit_params(&g);
        assert_ne!(other, h);
        let at = instances.len() - 2;
        instances[at] = other;
        let failures = run(instances).expect_err("another commitment");
        assert!(
            failures
                .iter()
                .all(|f| matches!(f, halo2_proofs::dev::VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }
}
