//! Errors of the circuits crate.

/// Errors while planning or synthesizing a model circuit.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CircuitError {
    /// The model does not fit in `2^max_k` rows.
    #[error("the model needs more than 2^{max_k} rows; it is too large for one circuit")]
    TooLarge {
        /// Largest supported k.
        max_k: u32,
    },
    /// The output is the input: there is no computation to prove.
    #[error("the model's output is its input; there is nothing to prove")]
    NothingToProve,
    /// The trace does not match the graph.
    #[error("the trace does not match the compiled model at tensor {tensor}")]
    TraceMismatch {
        /// The tensor id.
        tensor: usize,
    },
    /// The compiled model breaks a fact the circuit relies on (a corrupt or crafted file).
    #[error("refusing the compiled model: {0}")]
    InvalidModel(#[from] zkinfer_ir::InvalidModel),
    /// One node could not be laid out.
    #[error("node `{node}` ({op}) cannot be laid out: {fault}")]
    Layout {
        /// The node's name (or `(input bounds)` for the input's rows).
        node: String,
        /// Its op.
        op: &'static str,
        /// What went wrong.
        fault: LayoutFault,
    },
    /// The circuit's tables disagree with the parameters it was planned with.
    #[error("the {table} table has {got} rows, the circuit parameters say {expected}: the keys belong to another model")]
    TableSize {
        /// Which table.
        table: &'static str,
        /// Rows the parameters promise.
        expected: usize,
        /// Rows the model's tables need.
        got: usize,
    },
}

/// Why a node cannot be laid out. Every variant is a compiled model (or trace) that does not
/// fit the circuit; none can be fixed by a different input.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum LayoutFault {
    /// The node reads an operand it does not have.
    #[error("it has no operand {index}")]
    MissingOperand {
        /// Operand index.
        index: usize,
    },
    /// A tensor the node reads or writes is not in the layout or the trace.
    #[error("tensor {tensor} is missing from the {place}")]
    MissingTensor {
        /// Tensor id.
        tensor: usize,
        /// `layout` or `trace`.
        place: &'static str,
    },
    /// A tensor has the wrong number of elements.
    #[error("{what} has {got} elements, {expected} expected")]
    Length {
        /// Which tensor or parameter.
        what: &'static str,
        /// Elements expected.
        expected: usize,
        /// Elements found.
        got: usize,
    },
    /// An op parameter the chip cannot represent.
    #[error("{0}")]
    Parameter(&'static str),
    /// The chip this op needs is not configured in this circuit.
    #[error("the {0} chip is not configured in this circuit")]
    MissingChip(&'static str),
    /// The node used another number of rows than the planner reserved (a bug).
    #[error("it used {used} rows, the plan reserved {planned}")]
    RowCount {
        /// Rows the planner counted.
        planned: usize,
        /// Rows the layout used.
        used: usize,
    },
    /// halo2 refused an assignment.
    #[error("halo2: {0}")]
    Backend(String),
}

impl From<halo2_proofs::plonk::Error> for LayoutFault {
    fn from(e: halo2_proofs::plonk::Error) -> Self {
        LayoutFault::Backend(e.to_string())
    }
}
