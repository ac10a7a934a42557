//! On-chain verification: the Solidity verifier, its key data, and an embedded EVM to run it.
//!
//! The verifier contract (`evm/ZkinferVerifier.sol`) is one piece of code for every model: it
//! loops over the public values and interprets the model's constraints from key data held in
//! a second contract. Only that data grows with the model, so every shared model's verifier
//! stays far below the 24,576-byte contract limit.

#[cfg(feature = "evm")]
pub mod exec;
pub mod key_data;
pub mod program;
pub mod solidity;
mod words;

pub use key_data::{build as key_data, EvmKey};
