//! Why the on-chain verifier cannot serve a circuit, and how a transaction in the embedded
//! EVM failed.

#[cfg(feature = "evm")]
use super::{EvmTransactionError, HaltReason};

/// A kind of column a gate can query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// A witness column.
    Advice,
    /// A column fixed by the key.
    Fixed,
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ColumnKind::Advice => "advice",
            ColumnKind::Fixed => "fixed",
        })
    }
}

/// What the on-chain verifier cannot handle in a circuit ([`super::VerifyError::EvmUnsupported`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedCircuit {
    /// The circuit uses challenges (multi-phase advice), in its constraint system or a gate.
    #[error("circuits with challenges")]
    Challenges,
    /// The circuit does not have exactly one public-value column.
    #[error(
        "the public values must be one column read at its own row ({columns} instance columns)"
    )]
    InstanceColumns {
        /// The number of instance columns.
        columns: usize,
    },
    /// The public values are read at another column or row than their own.
    #[error(
        "the public values must be one column read at its own row (a query of instance column \
         {column} at rotation {rotation})"
    )]
    InstanceQuery {
        /// The queried instance column.
        column: usize,
        /// The rotation it is read at.
        rotation: i32,
    },
    /// The circuit has no copy constraints (so no permutation argument).
    #[error("a circuit without copy constraints")]
    NoCopyConstraints,
    /// The halo2 multi-opening uses more points than the verifier's plan holds.
    #[error("{points} opening points, more than the verifier's {max}")]
    TooManyOpeningPoints {
        /// The number of distinct rotations opened.
        points: usize,
        /// The most the verifier supports.
        max: usize,
    },
    /// Two rotations of one opening set give the same point (no interpolation exists).
    #[error("repeated opening point")]
    RepeatedOpeningPoint,
    /// A count in the key data does not fit its 32-bit word.
    #[error("a count ({count}) does not fit 32 bits")]
    CountTooLarge {
        /// The count.
        count: usize,
    },
    /// The proof is too long for the offsets the verifier encodes.
    #[error("the proof is too long: calldata offset {offset} does not fit {bits} bits")]
    CalldataOffset {
        /// The offset.
        offset: usize,
        /// The width of the field that must hold it.
        bits: u32,
    },
    /// The key's G1 generator is not a curve point.
    #[error("the key's G1 generator is not a curve point")]
    G1Generator,
    /// A gate reads a column at a rotation the constraint system does not query.
    #[error("no query of {kind} column {column} at rotation {rotation}")]
    MissingQuery {
        /// The column's kind.
        kind: ColumnKind,
        /// The column's index among those of its kind.
        column: usize,
        /// The rotation the gate reads.
        rotation: i32,
    },
    /// A gate still holds a selector (halo2 compiles selectors to fixed columns first).
    #[error("an uncompiled selector in a gate")]
    UncompiledSelector,
    /// More lookups than the program's 16-bit lookup index can name.
    #[error("{lookups} lookups, more than a 16-bit index can name")]
    TooManyLookups {
        /// The number of lookups.
        lookups: usize,
    },
    /// A constraint needs a deeper stack than the verifier's.
    #[error("a constraint needs a stack of {depth} (the verifier has {max})")]
    StackTooDeep {
        /// The depth needed.
        depth: usize,
        /// The verifier's stack depth.
        max: usize,
    },
    /// The key data is larger than a contract may be (EIP-170).
    #[error(
        "the key data is {size} bytes, more than a contract can hold ({max}); recompile with a \
         smaller --max-lanes for a narrower circuit"
    )]
    KeyDataTooLarge {
        /// The key data's size in bytes.
        size: usize,
        /// The most key data a contract can hold, in bytes: EIP-170's code size limit less
        /// the key contract's leading STOP byte.
        max: usize,
    },
}

/// Why the verifier could not be deployed in the embedded EVM ([`super::VerifyError::EvmDeploy`]).
#[derive(Debug, thiserror::Error)]
pub enum DeployFailure {
    /// The bundled solc output is not JSON.
    #[error("bad precompiled verifier: {source}")]
    BuildJson {
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// The bundled solc output has no creation bytecode for the verifier.
    #[error("precompiled verifier has no bytecode")]
    NoBytecode,
    /// The bundled creation bytecode is not hex.
    #[error("bad precompiled verifier: the bytecode is not hex: {source}")]
    BytecodeHex {
        /// The hex decoder's error.
        source: hex::FromHexError,
    },
    /// The creation transaction failed.
    #[error("the creation transaction {0}")]
    Transaction(
        /// How it failed.
        #[source]
        EvmFailure,
    ),
}

/// How a transaction in the embedded EVM failed: what revm reported, or what the call
/// returned when that was not what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmFailure {
    /// revm refused the transaction before running it.
    #[cfg(feature = "evm")]
    #[error("was refused by the embedded EVM: {source}")]
    Invalid {
        /// revm's error.
        source: EvmTransactionError,
    },
    /// The code executed `REVERT`.
    #[error("reverted after {gas_used} gas, with revert data 0x{}", hex::encode(.output))]
    Reverted {
        /// Gas used by the transaction, including the 21,000 base and the calldata.
        gas_used: u64,
        /// The revert data (empty for a bare `revert()`).
        output: Vec<u8>,
    },
    /// Execution halted exceptionally (out of gas, invalid opcode, ...), spending all its gas.
    #[cfg(feature = "evm")]
    #[error("halted after {gas_used} gas: {reason:?}")]
    Halted {
        /// Gas used by the transaction (the gas limit).
        gas_used: u64,
        /// revm's reason.
        reason: HaltReason,
    },
    /// The verifier's call succeeded but did not return the 32-byte word 1.
    #[error("returned 0x{} instead of 1", hex::encode(.output))]
    ReturnedNotOne {
        /// Gas used by the transaction.
        gas_used: u64,
        /// What it returned.
        output: Vec<u8>,
    },
    /// A call succeeded but returned output of the wrong length.
    #[error("returned {} bytes instead of {expected}", .output.len())]
    OutputLength {
        /// The expected length in bytes.
        expected: usize,
        /// What it returned.
        output: Vec<u8>,
    },
    /// The transaction succeeded with the wrong kind of result: a creation that made no
    /// contract, or a call that reported a creation.
    #[error("succeeded after {gas_used} gas with the wrong kind of result")]
    WrongResultKind {
        /// Gas used by the transaction.
        gas_used: u64,
    },
}
