//! A model the circuit cannot lay out fails setup with a typed error naming the node, not
//! halo2's bare "General synthesis error".

#![allow(clippy::panic)]

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_circuits::{plan, CircuitError, LayoutFault};
use zkinfer_ir::testkit::two_operands;
use zkinfer_ir::QOp;
use zkinfer_prover::error::ProverError;
use zkinfer_prover::keys::setup;
use zkinfer_prover::srs::generate_insecure_seeded;

#[test]
fn setup_names_the_node_a_layout_cannot_place() {
    let graph = two_operands(QOp::Div { shift: 4 }, 4, 4, 50, 4, 1 << 12);
    let mut params = plan(&graph).expect("plan").params;
    // Keys for parameters that leave out the division chip the graph needs.
    params.optional.div = false;
    let srs = generate_insecure_seeded(params.k, ChaCha20Rng::seed_from_u64(7));
    let err = match setup(Arc::new(graph), &params, &srs) {
        Err(e) => e,
        Ok(_) => panic!("setup must fail"),
    };
    match err {
        ProverError::Circuit(CircuitError::Layout { node, op, fault }) => {
            assert_eq!((node.as_str(), op), ("op", "Div"));
            assert_eq!(fault, LayoutFault::MissingChip("division"));
        }
        other => panic!("expected a layout error naming the node, got {other:?}"),
    }
}
