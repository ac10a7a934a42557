//! Builders that write ONNX models from Rust, for tests and bundled example models.

use prost::Message;

use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::{dimension, Dimension};
use super::proto::type_proto;
use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

/// ONNX IR version written by [`model`] (the one PyTorch uses with opset 17).
pub const IR_VERSION: i64 = 8;
/// Default-domain opset written by [`model`].
pub const OPSET: i64 = 17;

/// One fully connected layer of [`mlp_model`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Row-major `[n_out][n_in]` weights (PyTorch `nn.Linear.weight` layout).
    pub weight: Vec<f32>,
    /// `n_out` biases.
    pub bias: Vec<f32>,
    /// Whether a `Relu` follows the layer.
    pub relu: bool,
}

/// One dimension of a [`value_info`] shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size (`dim_value`).
    Value(usize),
    /// A symbolic size such as `"batch_size"` (`dim_param`).
    Param(String),
}

/// An MLP shaped like PyTorch's export of an `nn.Linear` chain: input `"input"` of shape
/// `[1, input_dim]`, `Gemm` nodes (`transB = 1`, `alpha = beta = 1`) reading FLOAT initializers
/// stored in `raw_data`, optional `Relu`s, output `"output"`, opset 17, IR version 8.
///
/// # Panics
/// When a layer's `weight` does not hold `bias.len() * n_in` values.
pub fn mlp_model(input_dim: usize, layers: &[LayerSpec]) -> Vec<u8> {
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut prev = "input".to_string();
    let mut n_in = input_dim;
    let mut relus = 0;
    for (k, layer) in layers.iter().enumerate() {
        let n_out = layer.bias.len();
        assert_eq!(
            layer.weight.len(),
            n_out * n_in,
            "layer {k}: weight must be [n_out][n_in]"
        );
        let last = k + 1 == layers.len();
        let fc = format!("fc{}", k + 1);
        let (w, b) = (format!("{fc}.weight"), format!("{fc}.bias"));
        inits.push(float_tensor(&w, &[n_out, n_in], &layer.weight));
        inits.push(float_tensor(&b, &[n_out], &layer.bias));
        let gemm_out = if last && !layer.relu {
            "output".to_string()
        } else {
            format!("/{fc}/Gemm_output_0")
        };
        let attrs = vec![
            attr_float("alpha", 1.0),
            attr_float("beta", 1.0),
            attr_int("transB", 1),
        ];
        let name = format!("/{fc}/Gemm");
        nodes.push(node("Gemm", &name, &[&prev, &w, &b], &[&gemm_out], attrs));
        prev = gemm_out;
        if layer.relu {
            let name = if relus == 0 {
                "/Relu".to_string()
            } else {
                format!("/Relu_{relus}")
            };
            let out = if last {
                "output".to_string()
            } else {
                format!("{name}_output_0")
            };
            nodes.push(node("Relu", &name, &[&prev], &[&out], vec![]));
            prev = out;
            relus += 1;
        }
        n_in = n_out;
    }
    if layers.is_empty() {
        nodes.push(node(
            "Identity",
            "/Identity",
            &["input"],
            &["output"],
            vec![],
        ));
    }
    let input = value_info("input", &[Dim::Value(1), Dim::Value(input_dim)]);
    let output = value_info("output", &[Dim::Value(1), Dim::Value(n_in)]);
    model_bytes(graph(nodes, inits, input, output))
}

/// A FLOAT tensor with its data in little-endian `raw_data`.
pub fn float_tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims_i64(dims),
        data_type: DataType::Float as i32,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// An INT64 tensor with its data in little-endian `raw_data`.
pub fn int64_tensor(name: &str, dims: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims_i64(dims),
        data_type: DataType::Int64 as i32,
        raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn dims_i64(dims: &[usize]) -> Vec<i64> {
    dims.iter()
        .map(|&d| i64::try_from(d).unwrap_or(i64::MAX))
        .collect()
}

/// A FLOAT tensor value description (graph input or output).
pub fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Value(n) => dimension::Value::DimValue(i64::try_from(*n).unwrap_or(i64::MAX)),
                Dim::Param(p) => dimension::Value::DimParam(p.clone()),
            }),
            ..Default::default()
        })
        .collect();
    let tensor = type_proto::Tensor {
        elem_type: DataType::Float as i32,
        shape: Some(TensorShapeProto { dim }),
    };
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// [`value_info_fixed`] of element type `elem_type` (an INT64 index, a BOOL mask).
pub fn value_info_typed(name: &str, dims: &[usize], elem_type: DataType) -> ValueInfoProto {
    let mut v = value_info_fixed(name, dims);
    if let Some(type_proto::Value::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.elem_type = elem_type as i32;
    }
    v
}

/// A FLOAT tensor value description without a shape (rank and dims unknown).
pub fn value_info_unshaped(name: &str) -> ValueInfoProto {
    let mut v = value_info(name, &[]);
    if let Some(type_proto::Value::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape = None;
    }
    v
}

/// [`value_info`] with fixed dimensions only.
pub fn value_info_fixed(name: &str, dims: &[usize]) -> ValueInfoProto {
    value_info(
        name,
        &dims.iter().map(|&d| Dim::Value(d)).collect::<Vec<_>>(),
    )
}

fn attr(name: &str, ty: AttributeType) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: ty as i32,
        ..Default::default()
    }
}

/// An INT attribute.
pub fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        i,
        ..attr(name, AttributeType::Int)
    }
}

/// A FLOAT attribute.
pub fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        f,
        ..attr(name, AttributeType::Float)
    }
}

/// An INTS attribute.
pub fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        ints: ints.to_vec(),
        ..attr(name, AttributeType::Ints)
    }
}

/// A FLOATS attribute.
pub fn attr_floats(name: &str, floats: &[f32]) -> AttributeProto {
    AttributeProto {
        floats: floats.to_vec(),
        ..attr(name, AttributeType::Floats)
    }
}

/// A STRING attribute.
pub fn attr_string(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        s: s.as_bytes().to_vec(),
        ..attr(name, AttributeType::String)
    }
}

/// A STRINGS attribute.
pub fn attr_strings(name: &str, strings: &[&str]) -> AttributeProto {
    AttributeProto {
        strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..attr(name, AttributeType::Strings)
    }
}

/// A TENSOR attribute.
pub fn attr_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        t: Some(t),
        ..attr(name, AttributeType::Tensor)
    }
}

/// A default-domain node.
pub fn node(
    op_type: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op_type.to_string(),
        name: name.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

/// A graph named `main_graph` with one input and one output. The initializers are not listed
/// as graph inputs (as PyTorch does since IR version 4).
pub fn graph(
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    input: ValueInfoProto,
    output: ValueInfoProto,
) -> GraphProto {
    GraphProto {
        name: "main_graph".to_string(),
        node: nodes,
        initializer: initializers,
        input: vec![input],
        output: vec![output],
        ..Default::default()
    }
}

/// Wraps a graph in a model (IR version 8, default-domain opset 17, producer `zkinfer`).
pub fn model(graph: GraphProto) -> ModelProto {
    ModelProto {
        ir_version: IR_VERSION,
        producer_name: "zkinfer".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        ..Default::default()
    }
}

/// Serializes [`model`]`(graph)`.
pub fn model_bytes(graph: GraphProto) -> Vec<u8> {
    model(graph).encode_to_vec()
}
