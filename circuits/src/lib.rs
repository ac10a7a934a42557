//! zkinfer circuits: one halo2 chip per op, the layout planner, and the model circuit
//! that lays a quantized graph out and fills its witness from a `Trace`.

pub mod chips;
pub mod circuit;
pub mod corrupt;
pub mod error;
pub mod field;
mod lay;
pub mod layout;
pub mod plan;
pub mod transcript;
pub mod vk_header;

pub use circuit::{public_values, ModelCircuit, ModelConfig};
pub use error::CircuitError;
pub use plan::{plan, CircuitParams, Plan};

/// The scalar field of BN254, re-exported for callers.
pub use halo2_proofs::halo2curves::bn256::Fr;

#[cfg(test)]
pub(crate) mod testing;
