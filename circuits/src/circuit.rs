//! The model circuit: all chips over one shared advice pool; the input public, private or
//! committed, the output public.

use std::sync::{Arc, Mutex};

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use zkinfer_ir::{QGraph, Trace, Visibility};

use crate::chips::lookup::LookupConfig;
pub use crate::config::{CircuitParams, ModelConfig};
#[cfg(any(test, feature = "test-utils"))]
use crate::corrupt::Corruption;
use crate::error::CircuitError;
use crate::field::fr_from_i64;
use crate::layout::{lay_out, LayoutOptions};
use crate::poseidon::commit;

/// The circuit proving `graph(input) = output`. Without a trace it is the key-generation
/// shape: same fixed cells, unknown witnesses.
#[derive(Debug, Clone)]
pub struct ModelCircuit {
    /// The compiled model.
    pub graph: Arc<QGraph>,
    /// Layout parameters.
    pub params: CircuitParams,
    /// Every tensor of the execution being proven (None for key generation).
    pub trace: Option<Arc<Trace>>,
    /// The secret salt of a hashed input's commitment (None: key generation, or no hashing).
    pub salt: Option<Fr>,
    /// Test-only: a deliberately wrong witness cell.
    #[cfg(any(test, feature = "test-utils"))]
    pub corruption: Option<Corruption>,
    /// Why synthesis failed, kept for [`ModelCircuit::failure`] (halo2 only passes on
    /// `Error::Synthesis`). Shared by the clones halo2 makes.
    failure: Arc<Mutex<Option<CircuitError>>>,
}

impl ModelCircuit {
    /// A circuit for key generation.
    pub fn keygen(graph: Arc<QGraph>, params: CircuitParams) -> Self {
        ModelCircuit {
            graph,
            params,
            trace: None,
            salt: None,
            #[cfg(any(test, feature = "test-utils"))]
            corruption: None,
            failure: Arc::default(),
        }
    }

    /// A circuit proving one execution.
    pub fn with_trace(graph: Arc<QGraph>, params: CircuitParams, trace: Arc<Trace>) -> Self {
        ModelCircuit {
            graph,
            params,
            trace: Some(trace),
            salt: None,
            #[cfg(any(test, feature = "test-utils"))]
            corruption: None,
            failure: Arc::default(),
        }
    }

    /// The same circuit with `salt` for the input's commitment.
    pub fn with_salt(mut self, salt: Fr) -> Self {
        self.salt = Some(salt);
        self
    }

    /// The typed cause of the last `Error::Synthesis` this circuit returned: the node that
    /// could not be laid out and why.
    pub fn failure(&self) -> Option<CircuitError> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Keeps `e` as the cause of the synthesis error halo2 will report.
    fn fail(&self, e: CircuitError) -> Error {
        if let Ok(mut slot) = self.failure.lock() {
            *slot = Some(e);
        }
        Error::Synthesis
    }
}

/// The public values of an execution of `graph` laid out with `params`: the input's, then the
/// output's, each as its visibility says (the values, nothing, or their commitment with
/// `salt`), then the parameters' commitment when they are hashed, then the key's labels
/// digest ([`crate::vk_header::VkHeader::labels_digest`]).
pub fn public_values_of(
    graph: &QGraph,
    params: &CircuitParams,
    input: &[i64],
    output: &[i64],
    salt: Fr,
) -> Vec<Fr> {
    let group = |visibility, values: &[i64], bound| match visibility {
        Visibility::Public => values.iter().map(|&v| fr_from_i64(v)).collect(),
        Visibility::Private => Vec::new(),
        Visibility::Hashed => vec![commit(values, bound, salt)],
    };
    let output_bound = graph.output_tensor().map_or(0, |t| t.bound);
    let mut out: Vec<Fr> = Vec::new();
    for s in graph.input_segments() {
        let values = input.get(s.start..s.start + s.len()).unwrap_or(&[]);
        out.extend(group(s.visibility, values, graph.input.bound));
    }
    out.extend(group(graph.output_visibility, output, output_bound));
    if graph.param_visibility == zkinfer_ir::ParamVisibility::Hashed {
        out.push(crate::poseidon::commit_params(graph));
    }
    out.push(crate::vk_header::labels_digest_of(graph, params));
    out
}

/// Field elements of `input` then `output`: the public values of a graph whose input and
/// output are public, less the labels digest [`public_values_of`] appends.
pub fn public_values(input: &[i64], output: &[i64]) -> Vec<Fr> {
    input
        .iter()
        .chain(output)
        .map(|&v| fr_from_i64(v))
        .collect()
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitParams;

    fn without_witnesses(&self) -> Self {
        ModelCircuit {
            trace: None,
            salt: None,
            #[cfg(any(test, feature = "test-utils"))]
            corruption: None,
            ..self.clone()
        }
    }

    fn params(&self) -> CircuitParams {
        self.params.clone()
    }

    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        params: CircuitParams,
    ) -> ModelConfig {
        ModelConfig::configure(meta, &params)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure(
            meta,
            &CircuitParams {
                k: 8,
                lanes: 1,
                outs: 1,
                limb_bits: 4,
                limbs: 1,
                fn_table_rows: 0,
                optional: Default::default(),
                param_columns: Vec::new(),
            },
        )
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        config.range.load_table(&mut layouter)?;
        if let Some(lookup) = &config.lookup {
            // The planner sized k for this many rows; a different table is a different circuit.
            let got = LookupConfig::table_rows(&self.graph.tables);
            if got != self.params.fn_table_rows {
                return Err(self.fail(CircuitError::TableSize {
                    table: "function",
                    expected: self.params.fn_table_rows,
                    got,
                }));
            }
            lookup.load_table(&mut layouter, &self.graph.tables)?;
        }
        let trace = self.trace.as_deref();
        let options = LayoutOptions {
            salt: self.salt,
            labels: crate::vk_header::labels_digest_of(&self.graph, &self.params),
            #[cfg(any(test, feature = "test-utils"))]
            corruption: self.corruption,
        };
        let bindings = layouter.assign_region(
            || "model",
            |mut region| {
                lay_out(&config, &mut region, &self.graph, trace, options).map_err(|e| self.fail(e))
            },
        )?;
        for (cell, row) in bindings.instance_copies {
            layouter.constrain_instance(cell, config.instance, row);
        }
        let offset = self.graph.input_instances();
        for (i, cell) in bindings.outputs.into_iter().enumerate() {
            layouter.constrain_instance(cell, config.instance, offset + i);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::dev::VerifyFailure;

    use crate::testing::*;

    fn mlp() -> Fixture {
        let g = graph(
            12,
            &[
                Layer::Linear(8),
                Layer::Relu,
                Layer::AddConst,
                Layer::AddSelf,
                Layer::Linear(3),
            ],
            11,
        );
        fixture(&g, 12)
    }

    #[test]
    fn whole_model_passes() {
        let f = mlp();
        f.mock(None).expect("honest model proof");
        // The planner's row accounting matches the layout: the input's bound checks that do
        // not fit on the linear rows follow the last node and end the plan.
        let last = f.graph.nodes.len() - 1;
        let shape = f.params.dot_shape();
        let side = crate::plan::side_capacity(&f.graph, shape);
        let end = f.node_start(last)
            + crate::plan::node_rows(&f.graph, &f.graph.nodes[last], shape).rows
            + crate::plan::tail_total(&f.graph, side).rows;
        assert_eq!(end, crate::plan::plan(&f.graph).expect("plan").rows);
    }

    #[test]
    fn wrong_public_output_is_rejected() {
        let f = mlp();
        let failures = f
            .mock_with_output(None, &output_with(&f, 1, 1))
            .expect_err("a wrong output must fail");
        assert!(!failures.is_empty());
        assert!(
            failures
                .iter()
                .all(|e| matches!(e, VerifyFailure::Permutation { .. })),
            "only the copy to the instance column can fail: {failures:#?}"
        );
    }

    #[test]
    fn wrong_public_input_is_rejected() {
        let mut f = mlp();
        f.input[3] += 1;
        let failures = f.mock(None).expect_err("a wrong input must fail");
        assert!(
            failures
                .iter()
                .all(|e| matches!(e, VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }

    /// The rows of the input's bound checks: on the Linear's rows first, where the range
    /// columns are idle, the others after the node.
    fn check_rows(f: &Fixture) -> Vec<usize> {
        let rows = crate::plan::input_bound_rows(&f.graph, f.params.dot_shape());
        let side = crate::plan::side_capacity(&f.graph, f.params.dot_shape());
        let after = f.node_start(f.graph.nodes.len());
        assert!(
            rows.iter().enumerate().all(|(i, r)| if i < side {
                *r == i
            } else {
                *r == after + i - side
            }),
            "{rows:?}"
        );
        rows
    }

    /// One Linear node `y = 2x + 1` on two inputs bounded by `bound`, proven for `input`
    /// (the trace is computed without the input check, as a dishonest prover would).
    fn doubling(bound: u64, input: Vec<i64>) -> Fixture {
        use zkinfer_ir::QOp;
        let op = QOp::Linear {
            weight: vec![2, 2],
            bias: vec![1],
            n_in: 2,
            n_out: 1,
        };
        let g = single_op(op, 2, bound, 1, 4 * bound + 1, 1);
        let mut loose = g.clone();
        loose.input.bound = 1 << 40;
        let trace = loose.eval(&input).expect("eval");
        let params = crate::plan::plan(&g).expect("plan").params;
        Fixture {
            graph: std::sync::Arc::new(g),
            params,
            trace: std::sync::Arc::new(trace),
            input,
        }
    }

    #[test]
    fn inputs_at_the_bound_pass() {
        doubling(100, vec![100, -100])
            .mock(None)
            .expect("|x| = B is in range");
    }

    #[test]
    fn an_input_above_the_bound_fails_its_upper_check() {
        let f = doubling(100, vec![3, 101]);
        let plan = crate::plan::plan(&f.graph).expect("plan");
        // Input 1's rows come after input 0's two rows; its upper row is the second.
        let upper = check_rows(&f)[3];
        let bits = crate::field::signed_bits(100);
        let limb = overflowing_limb(100 - 101, bits, &plan.params);
        assert_lookup_failure(f.mock(None), &format!("limb {limb} in range"), upper);
    }

    #[test]
    fn an_input_below_the_bound_fails_its_lower_check() {
        let f = doubling(100, vec![-101, 3]);
        let plan = crate::plan::plan(&f.graph).expect("plan");
        let lower = check_rows(&f)[0];
        let bits = crate::field::signed_bits(100);
        let limb = overflowing_limb(-101 + 100, bits, &plan.params);
        assert_lookup_failure(f.mock(None), &format!("limb {limb} in range"), lower);
    }
    #[test]
    fn a_power_of_two_bound_takes_one_row_and_admits_minus_b_to_b_minus_one() {
        let f = doubling(128, vec![127, -128]);
        f.mock(None).expect("[-B, B - 1] is in range");
        assert_eq!(
            crate::plan::input_rows(&f.graph).rows,
            2,
            "one row per input"
        );
    }

    #[test]
    fn a_power_of_two_bound_refuses_b_itself() {
        let f = doubling(128, vec![3, 128]);
        let plan = crate::plan::plan(&f.graph).expect("plan");
        // Input 1's one row comes after input 0's.
        let row = check_rows(&f)[1];
        let limb = overflowing_limb(128 + 128, crate::field::bits(128), &plan.params);
        assert_lookup_failure(f.mock(None), &format!("limb {limb} in range"), row);
    }

    #[test]
    fn a_power_of_two_bound_refuses_minus_b_minus_one() {
        let f = doubling(128, vec![-129, 3]);
        let plan = crate::plan::plan(&f.graph).expect("plan");
        let limb = overflowing_limb(-129 + 128, crate::field::bits(128), &plan.params);
        assert_lookup_failure(
            f.mock(None),
            &format!("limb {limb} in range"),
            check_rows(&f)[0],
        );
    }

    #[test]
    fn a_zero_bound_input_admits_only_zero() {
        // A model without inputs reads a one-element anchor bounded by 0.
        doubling(0, vec![0, 0]).mock(None).expect("0 is in range");
        let mut f = doubling(0, vec![0, 0]);
        let mut g = (*f.graph).clone();
        g.nodes[0].out.bound = 1 << 20;
        let mut loose = g.clone();
        loose.input.bound = 1 << 40;
        f.input = vec![0, 1];
        f.trace = std::sync::Arc::new(loose.eval(&f.input).expect("eval"));
        f.graph = std::sync::Arc::new(g);
        let failures = f.mock(None).expect_err("1 is past bound 0");
        // Input 1's lower row (1 + 0) and upper row (0 - 1) both leave the empty range.
        let rows: Vec<usize> = failures
            .iter()
            .map(|e| match e {
                VerifyFailure::Lookup { name, location, .. } if name == "limb 0 in range" => {
                    crate::testing::absolute_row(location)
                }
                other => panic!("expected the range lookup to fail, got {other:?}"),
            })
            .collect();
        assert_eq!(rows, check_rows(&f)[2..4]);
    }

    // The wrapped-input attack (a field element past every bound) is a real proof in
    // tests/attacks.rs, rejected by the offline and the EVM verifier.

    /// Graphs that only move data (Reshape, Select of the input) prove with copies alone:
    /// their outputs are the input's bound cells.
    #[test]
    fn data_movement_only_graphs_prove_and_bind_their_outputs() {
        use zkinfer_ir::QOp;
        let reshape = fixture_of(single_op(QOp::Reshape, 4, 50, 4, 50, 1), vec![3, -7, 50, 0]);
        reshape.mock(None).expect("a pure reshape proves");
        let select = QOp::Select {
            index: vec![2, 0, 2],
        };
        let f = fixture_of(single_op(select, 4, 50, 3, 50, 1), vec![3, -7, 50, 0]);
        f.mock(None).expect("a pure select proves");
        let failures = f
            .mock_with_output(None, &output_with(&f, 2, 1))
            .expect_err("a wrong output must fail");
        assert!(
            failures
                .iter()
                .all(|e| matches!(e, VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }
}

#[cfg(test)]
mod failure_tests {
    use halo2_proofs::dev::MockProver;
    use zkinfer_ir::QOp;

    use crate::error::{CircuitError, LayoutFault};
    use crate::testing::*;
    use crate::ModelCircuit;

    /// Parameters that lack the chip a node needs fail synthesis with an error naming the
    /// node, its op and the missing chip, not a bare "synthesis error".
    #[test]
    fn a_layout_failure_names_the_node_and_the_cause() {
        let f = fixture_of(
            two_operands(QOp::Div { shift: 4 }, 4, 4, 50, 4, 1 << 12),
            vec![7, -3, 12, 0, 5, 9, 1, 30],
        );
        let mut params = f.params.clone();
        params.optional.div = false;
        let circuit = ModelCircuit::with_trace(f.graph.clone(), params.clone(), f.trace.clone());
        let result = MockProver::run(params.k, &circuit, vec![Vec::new()]);
        assert!(result.is_err(), "synthesis must fail");
        assert_eq!(
            circuit.failure(),
            Some(CircuitError::Layout {
                node: "op".into(),
                op: "Div",
                fault: LayoutFault::MissingChip("division"),
            })
        );
        let text = circuit.failure().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            text,
            "node `op` (Div) cannot be laid out: the division chip is not configured in this circuit"
        );
    }
}
