//! The bundled example model: a small MLP (16 → 16 → ReLU → 4) with seeded weights,
//! written as ONNX exactly as PyTorch exports `nn.Linear` chains.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zkinfer_compiler::onnx::encode::{mlp_model, LayerSpec};

/// Input width of the example model.
pub const INPUT_DIM: usize = 16;

fn layer(rng: &mut ChaCha8Rng, n_in: usize, n_out: usize, relu: bool) -> LayerSpec {
    let limit = 1.0 / (n_in as f32).sqrt();
    LayerSpec {
        weight: (0..n_in * n_out)
            .map(|_| rng.gen_range(-limit..limit))
            .collect(),
        bias: (0..n_out).map(|_| rng.gen_range(-limit..limit)).collect(),
        relu,
    }
}

/// The example model's ONNX bytes.
pub fn model_bytes() -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(20261122);
    let layers = [
        layer(&mut rng, INPUT_DIM, 16, true),
        layer(&mut rng, 16, 4, false),
    ];
    mlp_model(INPUT_DIM, &layers)
}

/// A sample input in EZKL's format.
pub fn input_json() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let row: Vec<String> = (0..INPUT_DIM)
        .map(|_| format!("{:.4}", rng.gen_range(-1.0f64..1.0)))
        .collect();
    format!("{{\"input_data\": [[{}]]}}\n", row.join(", "))
}
