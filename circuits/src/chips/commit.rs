//! Tensor commitment gadget: packs bounded values into field elements with the arithmetic
//! chip and chains Poseidon over them from a salt (the spec is [`crate::poseidon`]).
//!
//! Rows from `row0`: one zero row (an arithmetic row with every coefficient 0 pins its output
//! to 0: the Poseidon capacity, and the salt when there is none), one packing row per value
//! (`acc' = 2^b · acc + v + B`, Horner, the first value of a chunk starts from `acc = 0`),
//! then [`poseidon::ROWS`] per packed element (input state `[0, H_k, e_k]`, copy-constrained).
//! Packing is only injective for values the circuit keeps in `[-B, B]`: the caller passes
//! range-checked (or statically bounded) cells.

use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::Error;

use super::add::{AddConfig, ArithCoefs};
use super::poseidon::{self, PermutationWitness, PoseidonConfig};
use crate::field::{fr_from_i128, fr_from_i64, pow2};
use crate::poseidon::{per_element, permute, value_bits};

/// The chips a commitment uses.
#[derive(Debug, Clone)]
pub struct CommitConfig {
    /// Packing rows and the zero row.
    pub add: AddConfig,
    /// The hash chain.
    pub poseidon: PoseidonConfig,
}

/// Every witness value of one commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitWitness {
    /// The committed values.
    pub values: Vec<i64>,
    /// The packing accumulator after each value.
    pub accs: Vec<Fr>,
    /// One permutation per packed element.
    pub perms: Vec<PermutationWitness>,
    /// The commitment.
    pub commitment: Fr,
}

/// Widest value, in bits, the packing rows accept (`2^b` must fit an `i64` coefficient).
pub const MAX_VALUE_BITS: u32 = 62;

/// Rows of the commitment of `n` values bounded by `bound`.
pub fn rows(n: usize, bound: u64) -> usize {
    1 + n + n.div_ceil(per_element(bound)) * poseidon::ROWS
}

/// The honest witness of the commitment to `values` (bounded by `bound`) with `salt`.
pub fn witness(values: &[i64], bound: u64, salt: Fr) -> CommitWitness {
    let shift = pow2(value_bits(bound));
    let mut accs = Vec::with_capacity(values.len());
    let mut perms = Vec::new();
    let mut h = salt;
    for chunk in values.chunks(per_element(bound)) {
        let mut acc = Fr::ZERO;
        for &v in chunk {
            acc = acc * shift + fr_from_i128(i128::from(v) + i128::from(bound));
            accs.push(acc);
        }
        let input = [Fr::ZERO, h, acc];
        perms.push(poseidon::witness(input));
        h = permute(input)[0];
    }
    CommitWitness {
        values: values.to_vec(),
        accs,
        perms,
        commitment: h,
    }
}

impl CommitConfig {
    /// Lays out the commitment to the value cells `values` (bounded by `bound`) from `row0`,
    /// chained from `salt` (a cell holding it) or from 0. Returns the commitment's cell.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row0: usize,
        values: &[Cell],
        bound: u64,
        salt: Option<Cell>,
        witness: Option<&CommitWitness>,
    ) -> Result<Cell, Error> {
        let b = value_bits(bound);
        if b > MAX_VALUE_BITS {
            return Err(Error::Synthesis);
        }
        let zero = self
            .add
            .assign_arith(
                region,
                row0,
                ArithCoefs::default(),
                witness.map(|_| (0, 0, 0)),
            )?
            .out;
        let offset = i64::try_from(bound).map_err(|_| Error::Synthesis)?;
        let step = ArithCoefs {
            ca: 1i64 << b,
            cb: 1,
            cm: 0,
            c: offset,
        };
        let mut row = row0 + 1;
        let mut h = salt.unwrap_or(zero);
        let m = per_element(bound);
        for (k, chunk) in values.chunks(m).enumerate() {
            let mut acc: Option<Cell> = None;
            for (j, &cell) in chunk.iter().enumerate() {
                let i = k * m + j;
                let w = witness.map(|w| {
                    let acc = |i: usize| w.accs.get(i).copied().unwrap_or(Fr::ZERO);
                    let before = if j == 0 {
                        Fr::ZERO
                    } else {
                        acc(i.wrapping_sub(1))
                    };
                    let v = w.values.get(i).copied().unwrap_or(0);
                    (before, fr_from_i64(v), acc(i))
                });
                let cells = self.add.assign_arith_fr(region, row, step, w)?;
                region.constrain_equal(cells.b, cell);
                match acc {
                    None => region.constrain_equal(cells.a, zero),
                    Some(prev) => region.constrain_equal(cells.a, prev),
                }
                acc = Some(cells.out);
                row += 1;
            }
            let Some(e) = acc else { continue };
            let perm = self
                .poseidon
                .assign(region, row, witness.and_then(|w| w.perms.get(k)))?;
            region.constrain_equal(perm.input[0], zero);
            region.constrain_equal(perm.input[1], h);
            region.constrain_equal(perm.input[2], e);
            h = perm.output[0];
            row += poseidon::ROWS;
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
    use halo2_proofs::dev::{MockProver, VerifyFailure};
    use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Instance};

    use halo2_proofs::dev::FailureLocation;

    use super::*;
    use crate::poseidon::commit;

    /// Public values, a private salt, and their public commitment.
    #[derive(Clone)]
    struct Committed {
        values: Vec<i64>,
        bound: u64,
        salt: Option<Fr>,
        witness: Option<CommitWitness>,
    }

    #[derive(Clone)]
    struct TestConfig {
        commit: CommitConfig,
        pool: Vec<Column<Advice>>,
        instance: Column<Instance>,
    }

    impl Circuit<Fr> for Committed {
        type Config = TestConfig;
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();

        fn without_witnesses(&self) -> Self {
            Committed {
                witness: None,
                ..self.clone()
            }
        }

        fn configure(meta: &mut ConstraintSystem<Fr>) -> TestConfig {
            let pool: Vec<Column<Advice>> = (0..4).map(|_| meta.advice_column()).collect();
            for c in &pool {
                meta.enable_equality(*c);
            }
            let instance = meta.instance_column();
            meta.enable_equality(instance);
            let add = AddConfig::configure(meta, pool[0], pool[1], pool[2]);
            let poseidon = PoseidonConfig::configure(
                meta,
                [pool[0], pool[1], pool[2]],
                pool[3],
                [add.ca, add.cb, add.cm],
            );
            TestConfig {
                commit: CommitConfig { add, poseidon },
                pool,
                instance,
            }
        }

        fn synthesize(
            &self,
            config: TestConfig,
            mut layouter: impl Layouter<Fr>,
        ) -> Result<(), Error> {
            let mut publics = Vec::new();
            layouter.assign_region(
                || "commit",
                |mut region| {
                    let n = self.values.len();
                    let mut cells = Vec::with_capacity(n);
                    for (i, &v) in self.values.iter().enumerate() {
                        let value = halo2_proofs::circuit::Value::known(fr_from_i64(v));
                        cells.push(region.assign_advice(config.pool[3], i, value).cell());
                    }
                    let salt = self.salt.map(|s| {
                        let value = halo2_proofs::circuit::Value::known(s);
                        region.assign_advice(config.pool[3], n, value).cell()
                    });
                    let h = config.commit.assign(
                        &mut region,
                        n + 1,
                        &cells,
                        self.bound,
                        salt,
                        self.witness.as_ref(),
                    )?;
                    publics = cells;
                    publics.push(h);
                    Ok(())
                },
            )?;
            for (row, cell) in publics.into_iter().enumerate() {
                layouter.constrain_instance(cell, config.instance, row);
            }
            Ok(())
        }
    }

    fn case(values: Vec<i64>, bound: u64, salt: Option<Fr>) -> (Committed, Vec<Fr>) {
        let w = witness(&values, bound, salt.unwrap_or(Fr::ZERO));
        let mut public: Vec<Fr> = values.iter().map(|&v| fr_from_i64(v)).collect();
        public.push(w.commitment);
        (
            Committed {
                values,
                bound,
                salt,
                witness: Some(w),
            },
            public,
        )
    }

    fn mock(c: &Committed, public: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
        MockProver::run(11, c, vec![public])
            .expect("synthesis")
            .verify()
    }

    #[test]
    fn the_circuit_commitment_is_the_native_one() {
        // B = 1000: 11 bits, 23 values per element, so 50 values take three elements.
        let values: Vec<i64> = (0..50).map(|i| (i * 37 % 2001) - 1000).collect();
        for salt in [None, Some(Fr::from(123_456_789))] {
            let (c, public) = case(values.clone(), 1000, salt);
            assert_eq!(
                public.last().copied(),
                Some(commit(&values, 1000, salt.unwrap_or(Fr::ZERO)))
            );
            assert_eq!(rows(50, 1000), 1 + 50 + 3 * poseidon::ROWS);
            mock(&c, public).expect("honest commitment");
        }
    }

    #[test]
    fn another_values_commitment_is_rejected() {
        let (c, mut public) = case(vec![5, -7, 9], 10, None);
        let last = public.len() - 1;
        public[last] = commit(&[5, -7, 8], 10, Fr::ZERO);
        let failures = mock(&c, public).expect_err("another tensor's hash");
        assert!(
            failures
                .iter()
                .all(|f| matches!(f, VerifyFailure::Permutation { .. })),
            "{failures:#?}"
        );
    }

    #[test]
    fn a_wrong_packing_accumulator_fails_the_arith_gate() {
        let (mut c, public) = case(vec![5, -7, 9], 10, None);
        if let Some(w) = c.witness.as_mut() {
            w.accs[1] += Fr::ONE;
        }
        let failures = mock(&c, public).expect_err("corrupted accumulator");
        // Value `i` packs `1 + i` rows after the zero row (MockProver counts the region from
        // there, its first gated row): accumulator 1 is packing row 1's output and packing
        // row 2's `a`, so both rows fail the arithmetic gate and nothing else fails.
        let rows: Vec<usize> = failures
            .iter()
            .map(|f| match f {
                VerifyFailure::ConstraintNotSatisfied {
                    constraint,
                    location: FailureLocation::InRegion { offset, .. },
                    ..
                } if format!("{constraint}").contains(super::super::add::GATE) => *offset,
                other => panic!("expected the arithmetic gate to fail, got {other:?}"),
            })
            .collect();
        assert_eq!(rows, [2, 3], "{failures:#?}");
    }
}
