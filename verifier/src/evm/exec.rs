//! The embedded EVM (revm): deploy a verifier, call it with calldata, report gas.

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::{Address, TxKind};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

use super::EvmKey;
use crate::error::{DeployFailure, EvmFailure, MalformedProof, VerifyError};
use crate::key::{KeyDigest, VerifierKey};

/// Gas limit of every transaction (a mainnet block's limit).
pub const GAS_LIMIT: u64 = 30_000_000;

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

/// A verifier deployed in a fresh in-memory chain.
pub struct Deployed {
    evm: Evm,
    nonce: u64,
    /// The verifier's address.
    pub address: Address,
    /// Gas of the deployment transaction.
    pub deploy_gas: u64,
    /// Size of the verifier's runtime code in bytes.
    pub runtime_size: usize,
}

impl std::fmt::Debug for Deployed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployed")
            .field("address", &self.address)
            .field("deploy_gas", &self.deploy_gas)
            .field("runtime_size", &self.runtime_size)
            .finish()
    }
}

/// The failure a transaction's result reports: a revert or a halt as revm gives them, or a
/// success with a result of the wrong kind (the caller has matched the right kind first).
fn failure(result: ExecutionResult) -> EvmFailure {
    match result {
        ExecutionResult::Success { gas_used, .. } => EvmFailure::WrongResultKind { gas_used },
        ExecutionResult::Revert { gas_used, output } => EvmFailure::Reverted {
            gas_used,
            output: output.to_vec(),
        },
        ExecutionResult::Halt { reason, gas_used } => EvmFailure::Halted { gas_used, reason },
    }
}

/// Deploys `creation_code` (with its constructor arguments appended).
pub fn deploy(creation_code: Vec<u8>) -> Result<Deployed, VerifyError> {
    let mut evm = Context::mainnet()
        .with_db(InMemoryDB::default())
        .build_mainnet();
    let tx = TxEnv {
        gas_limit: GAS_LIMIT,
        kind: TxKind::Create,
        data: creation_code.into(),
        nonce: 0,
        ..Default::default()
    };
    let result = evm.transact_commit(tx).map_err(|source| {
        VerifyError::EvmDeploy(DeployFailure::Transaction(EvmFailure::Invalid { source }))
    })?;
    match result {
        ExecutionResult::Success {
            output: Output::Create(code, Some(address)),
            gas_used,
            ..
        } => Ok(Deployed {
            evm,
            nonce: 1,
            address,
            deploy_gas: gas_used,
            runtime_size: code.len(),
        }),
        other => Err(VerifyError::EvmDeploy(DeployFailure::Transaction(failure(
            other,
        )))),
    }
}

impl Deployed {
    /// Sends `calldata` to the verifier in a transaction; returns the output bytes and the
    /// transaction's gas when the call succeeds, and [`VerifyError::EvmRejected`] when it
    /// reverts or halts. No check of the calldata or of the output.
    pub fn call_raw(&mut self, calldata: &[u8]) -> Result<(Vec<u8>, u64), VerifyError> {
        let tx = TxEnv {
            gas_limit: GAS_LIMIT,
            kind: TxKind::Call(self.address),
            data: calldata.to_vec().into(),
            nonce: self.nonce,
            ..Default::default()
        };
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|source| VerifyError::EvmRejected(EvmFailure::Invalid { source }))?;
        self.nonce += 1;
        match result {
            ExecutionResult::Success {
                output: Output::Call(out),
                gas_used,
                ..
            } => Ok((out.to_vec(), gas_used)),
            other => Err(VerifyError::EvmRejected(failure(other))),
        }
    }

    /// Calls the verifier; returns the transaction's gas when it returns the word 1.
    pub fn call(&mut self, calldata: &[u8]) -> Result<u64, VerifyError> {
        let (out, gas_used) = self.call_raw(calldata)?;
        let mut one = [0u8; 32];
        one[31] = 1;
        if out == one {
            Ok(gas_used)
        } else {
            Err(VerifyError::EvmRejected(EvmFailure::ReturnedNotOne {
                gas_used,
                output: out,
            }))
        }
    }

    /// Calls the function with this 4-byte selector and no arguments; returns its output.
    pub fn call_selector(&mut self, selector: [u8; 4]) -> Result<Vec<u8>, VerifyError> {
        self.call_raw(&selector).map(|(out, _)| out)
    }

    /// The key digest the deployed verifier reports (`vkDigest()`): the word its proof
    /// transcript starts from.
    pub fn vk_digest(&mut self) -> Result<KeyDigest, VerifyError> {
        let out = self.call_selector(super::solidity::VK_DIGEST_SELECTOR)?;
        out.try_into().map(KeyDigest).map_err(|output: Vec<u8>| {
            VerifyError::EvmRejected(EvmFailure::OutputLength {
                expected: 32,
                output,
            })
        })
    }
}

/// Deploys the precompiled generic verifier with `key`'s data in a fresh in-memory chain.
pub fn deploy_verifier(key: &VerifierKey) -> Result<(Deployed, EvmKey), VerifyError> {
    let evm_key = super::key_data(key)?;
    let creation =
        super::solidity::creation_with_key(&super::solidity::generic_creation_code()?, &evm_key);
    Ok((deploy(creation)?, evm_key))
}

/// Deploys the verifier for `key` and sends it `calldata` exactly as given: no check of the
/// public values, of the length or of anything else in Rust first, so the contract alone
/// decides. Returns the transaction's gas when the contract returns the word 1.
pub fn verify_calldata_in_evm(key: &VerifierKey, calldata: &[u8]) -> Result<u64, VerifyError> {
    let (mut deployed, _) = deploy_verifier(key)?;
    deployed.call(calldata)
}

/// What a check in the embedded EVM measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EvmVerified {
    /// The proven output (absent when the key hides it).
    pub output: Option<zkinfer_ir::proof_file::TensorValues>,
    /// Gas of the verifying transaction (including the 21,000 base and the calldata).
    pub gas: u64,
    /// Gas of deploying the verifier and its key contract.
    pub deploy_gas: u64,
    /// The verifier's runtime code size in bytes.
    pub runtime_size: usize,
    /// The key contract's code size in bytes.
    pub key_size: usize,
    /// Calldata length in bytes.
    pub calldata_len: usize,
}

/// Checks the proof file's public values as the offline verifier does, then deploys the
/// precompiled Solidity verifier with this key's data and sends it the proof's calldata.
pub fn verify_in_evm(
    key: &VerifierKey,
    proof: &zkinfer_ir::proof_file::ProofFile,
) -> Result<EvmVerified, VerifyError> {
    crate::verify::check_public(key, proof)?;
    let key = &*key.for_proof(proof)?;
    let calldata = crate::calldata::encode(proof)?;
    // The proof follows one word per public value; refuse a wrong length as `verify` does.
    let got = calldata.len().saturating_sub(32 * proof.instances.len());
    let expected = key.proof_len();
    if got != expected {
        return Err(VerifyError::Malformed(MalformedProof::Length {
            expected,
            got,
        }));
    }
    let (mut deployed, evm_key) = deploy_verifier(key)?;
    if calldata.len() != evm_key.calldata_len {
        return Err(VerifyError::Malformed(MalformedProof::CalldataLength {
            expected: evm_key.calldata_len,
            got: calldata.len(),
        }));
    }
    let gas = deployed.call(&calldata)?;
    Ok(EvmVerified {
        output: proof.output.clone(),
        gas,
        deploy_gas: deployed.deploy_gas,
        runtime_size: deployed.runtime_size,
        key_size: evm_key.data.len() + 1,
        calldata_len: calldata.len(),
    })
}
