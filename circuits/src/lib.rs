//! zkinfer circuits: one halo2 chip per op, the layout planner, and the model circuit
//! that lays a quantized graph out and fills its witness from a `Trace`.
//!
//! ```
//! use std::sync::Arc;
//! use halo2_proofs::dev::MockProver;
//! use zkinfer_circuits::{plan, public_values_of, Fr, ModelCircuit};
//! use zkinfer_ir::testkit::{graph, node, tensor};
//! use zkinfer_ir::QOp;
//!
//! let g = graph(tensor(3, 100), vec![node("relu", QOp::Relu, &[0], tensor(3, 100))]);
//! let params = plan(&g)?.params;
//! let x = [-16, 0, 40];
//! let trace = g.eval(&x)?;
//! let output = trace.get(g.output).unwrap_or_default().to_vec();
//! let instances = public_values_of(&g, &params, &x, &output, Fr::zero());
//! let circuit = ModelCircuit::with_trace(Arc::new(g), params.clone(), Arc::new(trace))
//!     .with_salt(Fr::zero());
//! let prover = MockProver::run(params.k, &circuit, vec![instances])?;
//! assert_eq!(prover.verify(), Ok(()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chips;
pub mod circuit;
pub mod committed;
pub mod config;
#[cfg(any(test, feature = "test-utils"))]
pub mod corrupt;
pub mod error;
pub mod field;
pub(crate) mod lay;
pub mod layout;
pub mod plan;
pub mod poseidon;
pub mod transcript;
pub mod vk_header;

pub use circuit::{public_values, public_values_of, ModelCircuit, ModelConfig};
pub use error::CircuitError;
pub use error::LayoutFault;
pub use plan::{plan, CircuitParams, NodeRows, Plan};

/// The scalar field of BN254, re-exported for callers.
pub use halo2_proofs::halo2curves::bn256::Fr;

/// Test kit (feature `test-utils`): graph builders, MockProver runners and the failure
/// assertions every chip's tests use.
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
