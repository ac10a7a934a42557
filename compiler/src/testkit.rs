//! Test kit (feature `test-utils`): seeded float graphs and weights shared by the tests and
//! benchmarks of the compiler, the circuits and the workspace, so none keeps a private copy.

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::graph::{Graph, Node, Op};

/// `n` values drawn uniformly from `(-amp, amp)`.
pub fn uniform(rng: &mut ChaCha8Rng, n: usize, amp: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-amp..amp)).collect()
}

/// A `Linear(n_in -> n_out)` with weights, then biases, drawn from `(-amp, amp)`.
pub fn linear(rng: &mut ChaCha8Rng, n_in: usize, n_out: usize, amp: f32) -> Op {
    let weight = uniform(rng, n_in * n_out, amp);
    let bias = uniform(rng, n_out, amp);
    Op::Linear {
        weight,
        bias,
        n_in,
        n_out,
    }
}

/// A `[1, widths[0]]` MLP: `Linear(widths[i] -> widths[i+1])` named `fc{i+1}`, with a `Relu`
/// (`relu{i+1}`) between consecutive layers; weights in `(-1, 1)` from `seed`.
pub fn mlp(seed: u64, widths: &[usize]) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    for (i, pair) in widths.windows(2).enumerate() {
        let (n_in, n_out) = (pair[0], pair[1]);
        if i > 0 {
            let id = nodes.len();
            nodes.push(Node::new(
                &format!("relu{i}"),
                Op::Relu,
                vec![id],
                vec![1, n_in],
            ));
        }
        let op = linear(&mut rng, n_in, n_out, 1.0);
        let id = nodes.len();
        nodes.push(Node::new(
            &format!("fc{}", i + 1),
            op,
            vec![id],
            vec![1, n_out],
        ));
    }
    Graph::chain(vec![1, widths.first().copied().unwrap_or(0)], nodes)
}
