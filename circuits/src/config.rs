//! What the model circuit is configured from and with: its parameters (rows, lanes, limbs,
//! optional chips) and every column and chip it creates. Layouts read the config; the
//! circuit builds it; neither is imported back.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Instance};
use serde::{Deserialize, Serialize};
use zkinfer_ir::{ElementOp, QGraph, QOp};

use crate::chips::abs::AbsConfig;
use crate::chips::add::AddConfig;
use crate::chips::bilinear::BilinearConfig;
use crate::chips::div::DivConfig;
use crate::chips::linear::LinearConfig;
use crate::chips::lookup::LookupConfig;
use crate::chips::max::MaxConfig;
use crate::chips::poseidon::PoseidonConfig;
use crate::chips::range::RangeConfig;
use crate::chips::relu::ReluConfig;
use crate::chips::rescale::RescaleConfig;

/// Runtime parameters of the model circuit (what `configure` needs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitParams {
    /// log2 of the number of rows.
    pub k: u32,
    /// Dot-product lanes per row: activations shared by the row's accumulators.
    pub lanes: usize,
    /// Accumulators per row: output elements that share the row's activation lanes (1 in
    /// keys made before this field existed).
    #[serde(default = "one")]
    pub outs: usize,
    /// Bits per range-check limb.
    pub limb_bits: u32,
    /// Limb columns per range-check row.
    pub limbs: usize,
    /// Rows of the function table (padding row plus every entry of every table); 0 when
    /// the graph has no lookup node, and then the function lookup is not configured.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fn_table_rows: usize,
    /// Chips configured only when the graph needs them (fewer gates and columns otherwise).
    #[serde(default)]
    pub optional: OptionalChips,
    /// With committed parameters, the fixed columns whose cells hold trained weights (in
    /// halo2's fixed-column order, increasing): their commitments come with each proof
    /// (committed.rs); empty otherwise. Part of the header, so the labels digest pins it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_columns: Vec<usize>,
}

/// Gates that exist only in circuits whose graph uses them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionalChips {
    /// Dot products of two activations (MatMul).
    #[serde(default)]
    pub bilinear: bool,
    /// Max over groups (MaxPool, Softmax).
    #[serde(default)]
    pub max: bool,
    /// Rounded division (Softmax, Div).
    #[serde(default)]
    pub div: bool,
    /// Poseidon rounds (a hashed tensor).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub poseidon: bool,
    /// Weights in advice columns (private or hashed parameters).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advice_params: bool,
    /// Absolute values (Abs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abs: bool,
}

impl OptionalChips {
    /// The chips `graph` needs.
    pub fn of(graph: &QGraph) -> Self {
        let has = |f: fn(&QOp) -> bool| graph.nodes.iter().any(|n| f(&n.op));
        OptionalChips {
            bilinear: has(|op| matches!(op, QOp::MatMul { .. })),
            max: has(|op| matches!(op, QOp::Max { .. })),
            div: has(|op| matches!(op, QOp::Div { .. })),
            poseidon: graph.hashes_anything(),
            advice_params: graph.advice_params(),
            abs: has(|op| matches!(op, QOp::Elementwise { op: ElementOp::Abs })),
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> usize {
    1
}

/// The linear chip's row shape: activation lanes, and accumulators sharing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotShape {
    /// Activation lanes per row.
    pub lanes: usize,
    /// Accumulators per row (output elements computed side by side).
    pub outs: usize,
}

impl DotShape {
    /// `lanes` lanes and `outs` accumulators, each at least 1.
    pub fn new(lanes: usize, outs: usize) -> Self {
        DotShape {
            lanes: lanes.max(1),
            outs: outs.max(1),
        }
    }

    /// Width of the advice pool this shape needs: column 0 (the range-check value, idle on
    /// linear rows), the lanes, the accumulators, and at least the four columns the ReLU
    /// row needs.
    pub fn pool_width(&self) -> usize {
        (1 + self.lanes + self.outs).max(4)
    }
}

impl CircuitParams {
    /// The linear chip's row shape.
    pub fn dot_shape(&self) -> DotShape {
        DotShape::new(self.lanes, self.outs)
    }

    /// Width of the shared advice pool ([`DotShape::pool_width`]).
    pub fn pool_width(&self) -> usize {
        self.dot_shape().pool_width()
    }
}

/// Every column and chip of the model circuit.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Advice: the shared pool every chip lays its cells in (equality enabled).
    pub pool: Vec<Column<Advice>>,
    /// Instance: the input values (or their commitment, or nothing), then the output values.
    pub instance: Column<Instance>,
    /// Dot products against fixed weights.
    pub linear: LinearConfig,
    /// Round-half-up rescale.
    pub rescale: RescaleConfig,
    /// ReLU.
    pub relu: ReluConfig,
    /// Constant and elementwise add, elementwise products (the arithmetic gate).
    pub add: AddConfig,
    /// Dot products of two activations (MatMul; only when the graph has one).
    pub bilinear: Option<BilinearConfig>,
    /// Range checks.
    pub range: RangeConfig,
    /// Max over contiguous groups (only when the graph has one).
    pub max: Option<MaxConfig>,
    /// Rounded division (only when the graph has one).
    pub div: Option<DivConfig>,
    /// Function-table lookups (only when the graph has lookup nodes).
    pub lookup: Option<LookupConfig>,
    /// Absolute values (only when the graph has an Abs).
    pub abs: Option<AbsConfig>,
    /// Poseidon rounds on pool columns 0..=3, their constants in the arithmetic chip's fixed
    /// columns (only when a tensor is hashed).
    pub poseidon: Option<PoseidonConfig>,
}

impl ModelConfig {
    /// Creates every column, gate and lookup for `params`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, params: &CircuitParams) -> Self {
        // Lookups already need degree 4, so the quotient lives on a 4n domain either way; degree 5
        // costs nothing more there and lets each permutation product cover 3 columns instead
        // of 2. It also pins the degree against halo2's MAX_DEGREE environment override.
        meta.set_minimum_degree(5);
        let width = params.pool_width();
        let pool: Vec<Column<Advice>> = (0..width).map(|_| meta.advice_column()).collect();
        for c in &pool {
            meta.enable_equality(*c);
        }
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let shape = params.dot_shape();
        let opt = params.optional;
        // Pool column 0 stays out of the linear chip: range checks placed on linear rows
        // use it (with the limb columns, also idle there).
        let lanes = &pool[1..=shape.lanes];
        let accs = &pool[1 + shape.lanes..1 + shape.lanes + shape.outs];
        let linear = LinearConfig::configure(meta, lanes, accs, opt.advice_params);
        let range =
            RangeConfig::configure(meta, pool[0], params.limbs.max(1), params.limb_bits.max(1));
        let rescale = RescaleConfig::configure(meta, pool[0], pool[1], pool[2], &range);
        let relu = ReluConfig::configure(meta, pool[0], pool[1], pool[2], pool[3], &range);
        let add = AddConfig::configure(meta, pool[0], pool[1], pool[2]);
        let abs = opt
            .abs
            .then(|| AbsConfig::configure(meta, pool[0], pool[1], pool[2], &range));
        let bilinear = opt.bilinear.then(|| BilinearConfig::configure(meta, &pool));
        let max = opt
            .max
            .then(|| MaxConfig::configure(meta, pool[0], pool[1], pool[2], pool[3]));
        // `t` sits in the next row's range value column (pool column 0).
        let div = opt
            .div
            .then(|| DivConfig::configure(meta, pool[0], pool[1], pool[2], pool[3], range.value));
        let lookup =
            (params.fn_table_rows > 0).then(|| LookupConfig::configure(meta, pool[0], pool[1]));
        let poseidon = opt.poseidon.then(|| {
            PoseidonConfig::configure(
                meta,
                [pool[0], pool[1], pool[2]],
                pool[3],
                [add.ca, add.cb, add.cm],
            )
        });
        ModelConfig {
            poseidon,
            pool,
            instance,
            linear,
            rescale,
            relu,
            add,
            abs,
            bilinear,
            range,
            max,
            div,
            lookup,
        }
    }
}
