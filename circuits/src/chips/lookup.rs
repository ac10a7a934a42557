//! Function-table lookup: `y = f_t(x)` for every tabulated function of the graph.
//!
//! All of a graph's tables share one tagged table `(tag, x, y)`: row 0 is `(0, 0, 0)`, then
//! table `t` (its index in `QGraph::tables`) contributes `(t + 1, lo + j, values[j])` for
//! every `j`. A lookup row holds `x` and `y` in the pool and the node's tag `t + 1` in a
//! fixed column; its inputs are `(tag, q·x, q·y)`. Rows without a lookup have tag 0 and
//! `q = 0`, so they look up `(0, 0, 0)`. The tag keeps tables apart: a pair of table `t`
//! never satisfies a lookup of another table.

use halo2_proofs::circuit::{Cell, Layouter, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn};
use halo2_proofs::poly::Rotation;
use zkinfer_ir::Table;

use crate::field::fr_from_i64;

/// Name of the function-table lookup argument.
pub const LOOKUP_NAME: &str = "function table";

/// Columns of the lookup chip.
#[derive(Debug, Clone)]
pub struct LookupConfig {
    /// Complex selector: enables the function lookup on a row.
    pub q_lookup: Selector,
    /// Advice: the argument `x` (pool column 0).
    pub x: Column<Advice>,
    /// Advice: the value `y` (pool column 1).
    pub y: Column<Advice>,
    /// Fixed: the row's table tag `t + 1` (0 on rows without a lookup).
    pub tag: Column<Fixed>,
    /// Lookup table: the tag `t + 1` of table `t` (0 on the padding row).
    pub table_tag: TableColumn,
    /// Lookup table: an argument `lo + j` of table `t`.
    pub table_x: TableColumn,
    /// Lookup table: the value `values[j]` at that argument.
    pub table_y: TableColumn,
}

/// Cells of one assigned lookup row.
#[derive(Debug, Clone, Copy)]
pub struct LookupCells {
    /// The argument (copy from the source).
    pub x: Cell,
    /// The value (the node's output).
    pub y: Cell,
}

impl LookupConfig {
    /// Creates the tag column, the three table columns and the lookup over `x`, `y`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Column<Advice>,
        y: Column<Advice>,
    ) -> Self {
        let q_lookup = meta.complex_selector();
        let tag = meta.fixed_column();
        let table_tag = meta.lookup_table_column();
        let table_x = meta.lookup_table_column();
        let table_y = meta.lookup_table_column();
        // (tag, q·x, q·y) ∈ {(t + 1, lo_t + j, values_t[j])} ∪ {(0, 0, 0)}
        meta.lookup(LOOKUP_NAME, |meta| {
            let q = meta.query_selector(q_lookup);
            let t = meta.query_fixed(tag, Rotation::cur());
            let xv = meta.query_advice(x, Rotation::cur());
            let yv = meta.query_advice(y, Rotation::cur());
            vec![(t, table_tag), (q.clone() * xv, table_x), (q * yv, table_y)]
        });
        LookupConfig {
            q_lookup,
            x,
            y,
            tag,
            table_tag,
            table_x,
            table_y,
        }
    }

    /// Rows of the shared table for `tables`: the padding row plus every entry.
    pub fn table_rows(tables: &[Table]) -> usize {
        1 + tables.iter().map(|t| t.values.len()).sum::<usize>()
    }

    /// Fills the shared table with the padding row and every entry of `tables`.
    pub fn load_table(
        &self,
        layouter: &mut impl Layouter<Fr>,
        tables: &[Table],
    ) -> Result<(), Error> {
        layouter.assign_table(
            || LOOKUP_NAME,
            |mut table| {
                let mut row = 0;
                let mut put = |tag: u64, x: i64, y: i64| -> Result<(), Error> {
                    table.assign_cell(
                        || "tag",
                        self.table_tag,
                        row,
                        || Value::known(Fr::from(tag)),
                    )?;
                    table.assign_cell(
                        || "x",
                        self.table_x,
                        row,
                        || Value::known(fr_from_i64(x)),
                    )?;
                    table.assign_cell(
                        || "y",
                        self.table_y,
                        row,
                        || Value::known(fr_from_i64(y)),
                    )?;
                    row += 1;
                    Ok(())
                };
                put(0, 0, 0)?;
                for (t, f) in tables.iter().enumerate() {
                    let tag = t as u64 + 1;
                    for (x, y) in (f.lo..).zip(&f.values) {
                        put(tag, x, *y)?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Assigns one lookup row of table `table` with witness `(x, y)`.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        table: usize,
        witness: Option<(i64, i64)>,
    ) -> Result<LookupCells, Error> {
        self.q_lookup.enable(region, row)?;
        region.assign_fixed(self.tag, row, Fr::from(table as u64 + 1));
        let val = |f: fn((i64, i64)) -> i64| {
            witness.map_or(Value::unknown(), |w| Value::known(fr_from_i64(f(w))))
        };
        let x = region.assign_advice(self.x, row, val(|w| w.0)).cell();
        let y = region.assign_advice(self.y, row, val(|w| w.1)).cell();
        Ok(LookupCells { x, y })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use halo2_proofs::halo2curves::bn256::Fr;
    use halo2_proofs::plonk::ConstraintSystem;
    use zkinfer_ir::{QNode, QOp, QTensor, Table, Trace};

    use super::LOOKUP_NAME;
    use crate::config::ModelConfig;
    use crate::corrupt::{Corruption, CorruptionKind};
    use crate::plan::plan;
    use crate::testing::*;

    /// `round(64 · sigmoid(x / 8))` on `[-32, 32]`.
    fn sigmoid() -> Table {
        let lo = -32;
        let values = (lo..=32)
            .map(|x| (64.0 / (1.0 + (-(x as f64) / 8.0).exp())).round() as i64)
            .collect();
        Table {
            name: "sigmoid".into(),
            in_scale: 3,
            out_scale: 6,
            lo,
            values,
        }
    }

    /// `x²` on `[0, 64]`.
    fn square() -> Table {
        Table {
            name: "square".into(),
            in_scale: 6,
            out_scale: 12,
            lo: 0,
            values: (0..=64).map(|x| x * x).collect(),
        }
    }

    /// Input `[-32, 32]` → sigmoid (table 1) → square (table 0): two nodes, two tags. (The
    /// input bound is 33: a power of two would admit `[-32, 31]` only.)
    fn two_lookups(input: Vec<i64>) -> Fixture {
        let n = input.len();
        let mut g = single_op(QOp::Lookup { table: 1 }, n, 33, n, 64, 1);
        g.tables = vec![square(), sigmoid()];
        g.nodes.push(QNode {
            name: "square".into(),
            op: QOp::Lookup { table: 0 },
            inputs: vec![1],
            out: QTensor {
                shape: vec![1, n],
                scale: 12,
                bound: 4096,
            },
            structural: false,
        });
        g.output = 2;
        fixture_of(g, input)
    }

    fn random_input() -> Vec<i64> {
        let mut input = random_ints(10, 32, 7);
        input[0] = -32;
        input[1] = 32;
        input[2] = 0;
        input
    }

    #[test]
    fn lookups_pass_on_random_and_edge_arguments() {
        let f = two_lookups(random_input());
        assert_eq!(f.params.fn_table_rows, 1 + 65 + 65);
        f.mock(None).expect("honest witness");
    }

    #[test]
    fn wrong_value_fails_the_function_lookup() {
        let f = two_lookups(random_input());
        let c = Corruption {
            node: 1,
            element: 4,
            kind: CorruptionKind::LookupOutput(1),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, 4, 1));
        assert_lookup_failure(result, LOOKUP_NAME, f.node_start(1) + 4);
    }

    #[test]
    fn a_pair_of_another_table_fails_the_function_lookup() {
        // Claim square(v) = sigmoid(v): the pair (v, sigmoid(v)) is in the table, under
        // another tag. Element 2 is sigmoid(0) = 32, inside the sigmoid domain.
        let f = two_lookups(random_input());
        let element = 2;
        let v = f.trace.get(1).expect("sigmoid")[element];
        let honest = v * v;
        let wrong = sigmoid().get(v).expect("v is in the sigmoid domain");
        assert_ne!(honest, wrong);
        let c = Corruption {
            node: 1,
            element,
            kind: CorruptionKind::LookupOutput(wrong - honest),
        };
        let result = f.mock_with_output(Some(c), &output_with(&f, element, wrong - honest));
        assert_lookup_failure(result, LOOKUP_NAME, f.node_start(1) + element);
    }

    #[test]
    fn an_argument_outside_the_table_fails_the_function_lookup() {
        // The input bound admits 40, the table stops at 32. The reference semantics refuses
        // such an input, so the trace is built by hand: claim the value at the table's edge.
        let mut g = single_op(QOp::Lookup { table: 0 }, 6, 40, 6, 64, 1);
        g.tables = vec![sigmoid()];
        let mut input = random_ints(6, 32, 11);
        input[2] = 40;
        assert!(g.eval(&input).is_err());
        let t = sigmoid();
        let edge = *t.values.last().expect("values");
        let out: Vec<i64> = input.iter().map(|&x| t.get(x).unwrap_or(edge)).collect();
        let f = Fixture {
            params: plan(&g).expect("plan").params,
            graph: Arc::new(g),
            trace: Arc::new(Trace {
                tensors: vec![input.clone(), out],
            }),
            input,
        };
        assert_lookup_failure(f.mock(None), LOOKUP_NAME, 2);
    }

    #[test]
    fn the_function_lookup_is_configured_only_for_graphs_with_lookups() {
        let plain = plan(&single_op(QOp::Relu, 4, 10, 4, 10, 1))
            .expect("plan")
            .params;
        assert_eq!(plain.fn_table_rows, 0);
        let with_tables = two_lookups(random_input()).params;
        let shape = |p: &crate::plan::CircuitParams| {
            let mut meta = ConstraintSystem::<Fr>::default();
            let config = ModelConfig::configure(&mut meta, p);
            (
                config.lookup.is_some(),
                meta.lookups().len(),
                meta.num_fixed_columns(),
                meta.num_advice_columns(),
            )
        };
        let (on, lookups, fixed, advice) = shape(&plain);
        assert!(!on);
        assert_eq!(lookups, plain.limbs);
        let same_limbs = crate::plan::CircuitParams {
            fn_table_rows: 1,
            ..plain.clone()
        };
        assert_eq!(shape(&same_limbs), (true, lookups + 1, fixed + 4, advice));
        assert!(shape(&with_tables).0);
    }
}
