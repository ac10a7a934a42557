//! zkinfer circuits: one halo2 chip per op, the layout planner, and the model circuit
//! that lays a quantized graph out and fills its witness from a `Trace`.

pub mod chips;
pub mod circuit;
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
