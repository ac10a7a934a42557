"""Type stubs of the Rust extension `zkinfer._native` (use the wrappers in `zkinfer`)."""

from typing import List, Optional, Tuple

__version__: str

class ZkinferError(Exception):
    """A zkinfer flow failed; the message names the file, option or value at fault."""

class InputError(ZkinferError):
    """An argument, input sample or file does not fit the model or the flow."""

class VerificationError(ZkinferError):
    """A proof was rejected, or its key or commitments are not the expected ones."""

def compile_model(
    out: str,
    model_path: Optional[str] = None,
    model_bytes: Optional[bytes] = None,
    calibration_path: Optional[str] = None,
    calibration: Optional[List[List[float]]] = None,
    scale: Optional[int] = None,
    weight_scale: Optional[int] = None,
    headroom_bits: Optional[int] = None,
    bound_headroom_bits: Optional[int] = None,
    max_error: Optional[float] = None,
    table_scale: Optional[int] = None,
    max_lanes: Optional[int] = None,
    input_visibility: str = "public",
    output_visibility: str = "public",
    param_visibility: str = "fixed",
) -> str:
    """Compiles into `out`; returns report.json's text."""

def setup(dir: str, srs: Optional[str] = None, insecure_test_srs: bool = False) -> str:
    """Generates the keys; returns {key_digest, k, srs_s, keygen_s} as JSON."""

def prove(
    dir: str,
    input_path: Optional[str] = None,
    input: Optional[List[List[float]]] = None,
    row: int = 0,
    salt: Optional[str] = None,
    device: str = "auto",
) -> Tuple[str, str]:
    """Proves one sample; returns (proof file JSON, {output, fresh_salt, prove_s} JSON)."""

def verify(
    vk: str,
    proof_json: str,
    evm: bool = False,
    model: Optional[str] = None,
    srs: Optional[str] = None,
    onnx: Optional[str] = None,
) -> str:
    """Verifies a proof file's JSON; returns {verified, output, key_digest, ...} as JSON."""

def run(
    dir: str,
    input_path: Optional[str] = None,
    input: Optional[List[List[float]]] = None,
    row: int = 0,
    device: str = "auto",
) -> str:
    """Runs one sample; returns {output, parts, device} as JSON."""

def export_verifier(dir: str, weights_from: Optional[str] = None) -> str:
    """Renders the Solidity verifier; returns {source, key_digest, ...} as JSON."""
def chunk_model(dir: str, chunks: Optional[int] = None, max_k: Optional[int] = None) -> str: ...
def setup_chunks(dir: str, srs: Optional[str] = None, insecure_test_srs: bool = False) -> str: ...
def chunk_jobs(
    dir: str,
    input_path: Optional[str] = None,
    input: Optional[List[List[float]]] = None,
    row: int = 0,
    salt: Optional[str] = None,
    device: str = "auto",
) -> str: ...
def prove_chunk(dir: str, job_json: str, salt: str, device: str = "auto") -> str: ...
def verify_chunked(dir: str, bundle_json: str, evm: bool = False) -> str: ...
