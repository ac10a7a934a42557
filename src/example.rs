//! The bundled example models (`models/` at the repository root, compiled into the binary):
//! the demo's MLP (16 → 16 → ReLU → 4, seeded weights, written as ONNX exactly as PyTorch
//! exports `nn.Linear` chains), a small CNN, a small transformer and a tree ensemble.

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

/// One bundled model: its name (`zkinfer demo --model NAME`), a line about it, its ONNX bytes
/// and a sample input in EZKL's format.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// Name, as `--model` takes it.
    pub name: &'static str,
    /// What it is.
    pub about: &'static str,
    /// `models/NAME/model.onnx`.
    pub model: &'static [u8],
    /// `models/NAME/input.json`.
    pub input: &'static str,
}

/// Every bundled model; the first is the default.
pub const MODELS: &[Bundled] = &[
    Bundled {
        name: "mlp",
        about: "a small MLP (16 -> 16 -> ReLU -> 4), the default",
        model: include_bytes!("../models/mlp/model.onnx"),
        input: include_str!("../models/mlp/input.json"),
    },
    Bundled {
        name: "cnn",
        about: "a small LeNet (Conv, MaxPool, Gemm), PyTorch's default exporter",
        model: include_bytes!("../models/cnn/model.onnx"),
        input: include_str!("../models/cnn/input.json"),
    },
    Bundled {
        name: "transformer",
        about: "a transformer block (attention, LayerNorm decomposed, GELU by Erf), PyTorch export",
        model: include_bytes!("../models/transformer/model.onnx"),
        input: include_str!("../models/transformer/input.json"),
    },
    Bundled {
        name: "trees",
        about:
            "a random forest in GEMM form (Less, Gather, MatMul, ArgMax): label and probabilities",
        model: include_bytes!("../models/trees/model.onnx"),
        input: include_str!("../models/trees/input.json"),
    },
];

/// The bundled model called `name`.
pub fn bundled(name: &str) -> Option<&'static Bundled> {
    MODELS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_mlp_is_the_generated_one() {
        let mlp = bundled("mlp").expect("mlp");
        assert_eq!(mlp.model, model_bytes().as_slice());
        assert_eq!(mlp.input, input_json());
        assert_eq!(MODELS[0].name, "mlp");
    }
}
