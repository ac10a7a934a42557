//! Poseidon permutation chip (width 3, circom parameters; the spec is [`crate::poseidon`]).
//!
//! One permutation takes [`ROWS`] rows of four advice columns. A full round at row `r` holds
//! the state `a_0..a_2` at `r`, the squares `(a_j + rc_j)²` at `r + 1` (columns 0..=2), and
//! the next state at `r + 2`; a partial round holds the state at `r`, `(a_0 + rc_0)²` in
//! column 3, and the next state at `r + 1`. The last row holds the output state. Every
//! constraint is of degree 4 at most (the x⁵ S-box is `s · sq · sq`).
//!
//! Columns (constraints), witness generation ([`witness`]) and assignment are kept apart, so
//! the negative tests corrupt a witness row before it is assigned.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use crate::poseidon::{is_full, params, round, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};

/// Rows of one permutation: two per full round, one per partial round, one for the output.
pub const ROWS: usize = 2 * FULL_ROUNDS + PARTIAL_ROUNDS + 1;
/// Name of the full-round gate.
pub const FULL_GATE: &str = "poseidon full round";
/// Name of the partial-round gate.
pub const PARTIAL_GATE: &str = "poseidon partial round";
/// Full round: `sq_j = (a_j + rc_j)²`.
pub const SQUARE: [&str; WIDTH] = ["square 0", "square 1", "square 2"];
/// Either round: `next_i = Σ_j mds_ij · sbox_j`.
pub const MIX: [&str; WIDTH] = ["mix 0", "mix 1", "mix 2"];
/// Partial round: `sq_0 = (a_0 + rc_0)²`.
pub const PARTIAL_SQUARE: &str = "partial square 0";

/// Columns of the Poseidon chip.
#[derive(Debug, Clone)]
pub struct PoseidonConfig {
    /// Enables a full round at this row (squares on the next row, next state two rows on).
    pub q_full: Selector,
    /// Enables a partial round at this row (next state on the next row).
    pub q_partial: Selector,
    /// Advice: the state (pool columns 0..=2); in the row after a full round, the squares.
    pub state: [Column<Advice>; WIDTH],
    /// Advice: `(a_0 + rc_0)²` of a partial round (pool column 3).
    pub square0: Column<Advice>,
    /// Fixed: the round constants of the round at this row (shared with other chips' rows).
    pub rc: [Column<Fixed>; WIDTH],
}

/// The assigned input and output state of one permutation.
#[derive(Debug, Clone, Copy)]
pub struct PermutationCells {
    /// State before the first round.
    pub input: [Cell; WIDTH],
    /// State after the last round (`output[0]` is circom's hash).
    pub output: [Cell; WIDTH],
}

/// Every advice value of one permutation, row by row: the four pool columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermutationWitness {
    /// `ROWS` rows of `[col0, col1, col2, col3]` (unused cells are 0).
    pub rows: Vec<[Fr; 4]>,
}

/// The honest witness of the permutation of `input`.
pub fn witness(input: [Fr; WIDTH]) -> PermutationWitness {
    let p = params();
    let mut rows = Vec::with_capacity(ROWS);
    let mut state = input;
    for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
        let rc = p.rc.get(r).copied().unwrap_or([Fr::ZERO; WIDTH]);
        let sq = |j: usize| (state[j] + rc[j]).square();
        if is_full(r) {
            rows.push([state[0], state[1], state[2], Fr::ZERO]);
            rows.push([sq(0), sq(1), sq(2), Fr::ZERO]);
        } else {
            rows.push([state[0], state[1], state[2], sq(0)]);
        }
        state = round(p, r, state);
    }
    rows.push([state[0], state[1], state[2], Fr::ZERO]);
    PermutationWitness { rows }
}

impl PoseidonConfig {
    /// Creates the two round gates over `state` (three advice columns), `square0` and three
    /// fixed columns for the round constants.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        state: [Column<Advice>; WIDTH],
        square0: Column<Advice>,
        rc: [Column<Fixed>; WIDTH],
    ) -> Self {
        let q_full = meta.selector();
        let q_partial = meta.selector();
        let mds = params().mds;
        // q_full · (sq_j − (a_j + rc_j)²) = 0 and
        // q_full · (next_i − Σ_j mds_ij · (a_j + rc_j) · sq_j²) = 0
        meta.create_gate(FULL_GATE, |meta| {
            let q = meta.query_selector(q_full);
            let s: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|j| {
                    meta.query_advice(state[j], Rotation::cur())
                        + meta.query_fixed(rc[j], Rotation::cur())
                })
                .collect();
            let sq: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|j| meta.query_advice(state[j], Rotation::next()))
                .collect();
            let mut out = Vec::with_capacity(2 * WIDTH);
            for j in 0..WIDTH {
                out.push((
                    SQUARE[j],
                    q.clone() * (sq[j].clone() - s[j].clone() * s[j].clone()),
                ));
            }
            for (i, row) in mds.iter().enumerate() {
                let next = meta.query_advice(state[i], Rotation(2));
                let mix = (0..WIDTH).fold(Expression::Constant(Fr::ZERO), |acc, j| {
                    acc + Expression::Constant(row[j])
                        * s[j].clone()
                        * sq[j].clone()
                        * sq[j].clone()
                });
                out.push((MIX[i], q.clone() * (next - mix)));
            }
            out
        });
        // q_partial · (sq_0 − (a_0 + rc_0)²) = 0 and
        // q_partial · (next_i − (mds_i0 · (a_0 + rc_0) · sq_0² + Σ_{j>0} mds_ij · (a_j + rc_j))) = 0
        meta.create_gate(PARTIAL_GATE, |meta| {
            let q = meta.query_selector(q_partial);
            let s: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|j| {
                    meta.query_advice(state[j], Rotation::cur())
                        + meta.query_fixed(rc[j], Rotation::cur())
                })
                .collect();
            let sq0 = meta.query_advice(square0, Rotation::cur());
            let mut out = vec![(
                PARTIAL_SQUARE,
                q.clone() * (sq0.clone() - s[0].clone() * s[0].clone()),
            )];
            for (i, row) in mds.iter().enumerate() {
                let next = meta.query_advice(state[i], Rotation::next());
                let mut mix =
                    Expression::Constant(row[0]) * s[0].clone() * sq0.clone() * sq0.clone();
                for j in 1..WIDTH {
                    mix = mix + Expression::Constant(row[j]) * s[j].clone();
                }
                out.push((MIX[i], q.clone() * (next - mix)));
            }
            out
        });
        PoseidonConfig {
            q_full,
            q_partial,
            state,
            square0,
            rc,
        }
    }

    /// Assigns one permutation from row `row0` (`ROWS` rows) with `witness` (`None` for key
    /// generation).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row0: usize,
        witness: Option<&PermutationWitness>,
    ) -> Result<PermutationCells, Error> {
        let p = params();
        let value = |row: usize, col: usize| {
            witness
                .and_then(|w| w.rows.get(row))
                .and_then(|r| r.get(col))
                .map_or(Value::unknown(), |v| Value::known(*v))
        };
        let assign_state = |region: &mut Region<'_, Fr>, at: usize| -> [Cell; WIDTH] {
            let mut cells = Vec::with_capacity(WIDTH);
            for (j, col) in self.state.iter().enumerate() {
                cells.push(region.assign_advice(*col, row0 + at, value(at, j)).cell());
            }
            [cells[0], cells[1], cells[2]]
        };
        let mut at = 0;
        let mut input = None;
        for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
            let cells = assign_state(region, at);
            input.get_or_insert(cells);
            let rc = p.rc.get(r).copied().unwrap_or([Fr::ZERO; WIDTH]);
            for (col, c) in self.rc.iter().zip(rc) {
                region.assign_fixed(*col, row0 + at, c);
            }
            if is_full(r) {
                self.q_full.enable(region, row0 + at)?;
                for (j, col) in self.state.iter().enumerate() {
                    region.assign_advice(*col, row0 + at + 1, value(at + 1, j));
                }
                at += 2;
            } else {
                self.q_partial.enable(region, row0 + at)?;
                region.assign_advice(self.square0, row0 + at, value(at, 3));
                at += 1;
            }
        }
        let output = assign_state(region, at);
        let input = input.unwrap_or(output);
        Ok(PermutationCells { input, output })
    }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
    use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
    use halo2_proofs::plonk::{Circuit, Instance};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::poseidon::{permute, poseidon2};

    /// A chain of permutations: each output state feeds the next input; the first input and
    /// the last output are public.
    #[derive(Clone, Default)]
    struct Chain {
        witnesses: Vec<PermutationWitness>,
        count: usize,
    }

    #[derive(Clone)]
    struct ChainConfig {
        chip: PoseidonConfig,
        instance: Column<Instance>,
    }

    impl Circuit<Fr> for Chain {
        type Config = ChainConfig;
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();

        fn without_witnesses(&self) -> Self {
            Chain {
                witnesses: Vec::new(),
                count: self.count,
            }
        }

        fn configure(meta: &mut ConstraintSystem<Fr>) -> ChainConfig {
            let cols: Vec<Column<Advice>> = (0..4).map(|_| meta.advice_column()).collect();
            for c in &cols {
                meta.enable_equality(*c);
            }
            let rc = [
                meta.fixed_column(),
                meta.fixed_column(),
                meta.fixed_column(),
            ];
            let instance = meta.instance_column();
            meta.enable_equality(instance);
            let chip = PoseidonConfig::configure(meta, [cols[0], cols[1], cols[2]], cols[3], rc);
            ChainConfig { chip, instance }
        }

        fn synthesize(
            &self,
            config: ChainConfig,
            mut layouter: impl Layouter<Fr>,
        ) -> Result<(), Error> {
            let mut publics = Vec::new();
            layouter.assign_region(
                || "chain",
                |mut region| {
                    let mut prev: Option<PermutationCells> = None;
                    for i in 0..self.count {
                        let cells =
                            config
                                .chip
                                .assign(&mut region, i * ROWS, self.witnesses.get(i))?;
                        match prev {
                            None => publics.extend(cells.input),
                            Some(p) => {
                                for (a, b) in p.output.iter().zip(cells.input) {
                                    region.constrain_equal(*a, b);
                                }
                            }
                        }
                        prev = Some(cells);
                    }
                    if let Some(p) = prev {
                        publics.extend(p.output);
                    }
                    Ok(())
                },
            )?;
            for (row, cell) in publics.into_iter().enumerate() {
                layouter.constrain_instance(cell, config.instance, row);
            }
            Ok(())
        }
    }

    fn chain(input: [Fr; WIDTH], count: usize) -> (Chain, Vec<Fr>) {
        let mut witnesses = Vec::new();
        let mut state = input;
        for _ in 0..count {
            witnesses.push(witness(state));
            state = permute(state);
        }
        let mut public = input.to_vec();
        public.extend(state);
        (Chain { witnesses, count }, public)
    }

    fn mock(c: &Chain, public: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
        MockProver::run(9, c, vec![public])
            .expect("synthesis")
            .verify()
    }

    #[test]
    fn permutations_chain_and_match_the_native_hash() {
        let (c, public) = chain([Fr::ZERO, Fr::from(1), Fr::from(2)], 2);
        assert_eq!(
            public[3],
            permute(permute([Fr::ZERO, Fr::from(1), Fr::from(2)]))[0]
        );
        mock(&c, public).expect("honest chain");
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let input = [Fr::ZERO, Fr::random(&mut rng), Fr::random(&mut rng)];
        let (c, public) = chain(input, 1);
        assert_eq!(public[3], poseidon2(input[1], input[2]));
        mock(&c, public).expect("random input");
    }

    #[test]
    fn a_wrong_claimed_hash_fails_the_instance_copy() {
        let (c, mut public) = chain([Fr::ZERO, Fr::from(5), Fr::from(6)], 1);
        public[3] += Fr::ONE;
        let failures = mock(&c, public).expect_err("wrong hash");
        assert!(
            failures
                .iter()
                .all(|f| matches!(f, VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }

    /// The gate and constraint a corrupted cell at `(row, col)` breaks first: a cell is read
    /// by the round at its row (as state or square) and by the round before it (as next state).
    fn expected(row: usize, col: usize) -> Vec<(&'static str, &'static str, usize)> {
        // Round rows and kinds, in order.
        let mut rounds = Vec::new();
        let mut at = 0;
        for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
            rounds.push((at, is_full(r)));
            at += if is_full(r) { 2 } else { 1 };
        }
        let mut want = Vec::new();
        for &(start, full) in &rounds {
            let (gate, next_row) = if full {
                (FULL_GATE, start + 2)
            } else {
                (PARTIAL_GATE, start + 1)
            };
            if start == row && col < WIDTH {
                // As state: its square (full, or column 0 of a partial round) and every mix.
                if full {
                    want.push((gate, SQUARE[col], start));
                } else if col == 0 {
                    want.push((gate, PARTIAL_SQUARE, start));
                }
                want.extend(MIX.iter().map(|m| (gate, *m, start)));
            }
            if full && start + 1 == row && col < WIDTH {
                want.push((gate, SQUARE[col], start));
                want.extend(MIX.iter().map(|m| (gate, *m, start)));
            }
            if !full && start == row && col == 3 {
                want.push((gate, PARTIAL_SQUARE, start));
                want.extend(MIX.iter().map(|m| (gate, *m, start)));
            }
            if next_row == row && col < WIDTH {
                want.push((gate, MIX[col], start));
            }
        }
        want.sort();
        want.dedup();
        want
    }

    #[test]
    fn every_round_cell_is_constrained() {
        let input = [Fr::ZERO, Fr::from(11), Fr::from(12)];
        let (honest, public) = chain(input, 1);
        let last = ROWS - 1;
        for row in 0..ROWS {
            for col in 0..4 {
                let used = col < WIDTH || {
                    // Column 3 is used by partial rounds only.
                    let mut at = 0;
                    let mut hit = false;
                    for r in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
                        hit |= !is_full(r) && at == row;
                        at += if is_full(r) { 2 } else { 1 };
                    }
                    hit
                };
                if !used {
                    continue;
                }
                let mut c = honest.clone();
                c.witnesses[0].rows[row][col] += Fr::ONE;
                let failures = mock(&c, public.clone()).expect_err("corrupted cell");
                let mut got: Vec<(&str, &str, usize)> = Vec::new();
                let mut copies = 0;
                for f in &failures {
                    match f {
                        VerifyFailure::ConstraintNotSatisfied {
                            constraint,
                            location,
                            ..
                        } => {
                            let FailureLocation::InRegion { offset, .. } = location else {
                                panic!("outside the region: {f:?}");
                            };
                            let text = format!("{constraint}");
                            let gate = [FULL_GATE, PARTIAL_GATE]
                                .into_iter()
                                .find(|g| text.contains(g))
                                .unwrap_or_else(|| panic!("{text}"));
                            let name = SQUARE
                                .iter()
                                .chain(&MIX)
                                .chain(std::iter::once(&PARTIAL_SQUARE))
                                .find(|n| text.contains(&format!("'{n}'")))
                                .unwrap_or_else(|| panic!("{text}"));
                            got.push((gate, name, *offset));
                        }
                        VerifyFailure::Permutation { .. } => copies += 1,
                        other => panic!("unexpected {other:?}"),
                    }
                }
                got.sort();
                assert_eq!(got, expected(row, col), "cell ({row}, {col})");
                // The public input and output rows also break their instance copy.
                let public_cell = (row == 0 || row == last) && col < WIDTH;
                assert_eq!(
                    copies > 0,
                    public_cell,
                    "cell ({row}, {col}): {failures:#?}"
                );
            }
        }
    }
}
