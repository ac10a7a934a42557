"""zkinfer: verifiable inference.

Compile an ONNX model into a halo2 circuit, prove that an output is exactly what the
compiled model computes on an input, and verify the proof offline or in an embedded EVM.

    import zkinfer
    zkinfer.compile("model.onnx", calibration=x_calib, out="build")
    zkinfer.setup("build", insecure_test_srs=True)       # testing only
    proof = zkinfer.prove("build", x)
    result = zkinfer.verify("build/vk.bin", proof)
    print(result.output)

Arrays go in and out as numpy arrays. Every function releases the GIL while it works, so
several proofs can run in threads. Failures raise :class:`ZkinferError` (or a subclass)
with the message the CLI would print.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._native import InputError, VerificationError, ZkinferError

__all__ = [
    "compile",
    "setup",
    "prove",
    "verify",
    "run",
    "export_verifier",
    "Proof",
    "Verified",
    "ZkinferError",
    "InputError",
    "VerificationError",
    "__version__",
]

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _sample_lists(x: Any) -> List[List[float]]:
    """One sample as lists of floats: one list per graph input.

    A tuple or list of numpy arrays is one array per graph input; anything else is one
    array-like (any shape, flattened in C order) for a model with one input.
    """
    if isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x):
        return [np.asarray(a, dtype=np.float64).ravel().tolist() for a in x]
    return [np.asarray(x, dtype=np.float64).ravel().tolist()]


def _calibration_lists(x: Any) -> List[List[float]]:
    """Calibration samples as an input file's lists: an array whose first axis is the
    sample, or a tuple/list of such arrays, one per graph input (same number of samples)."""
    if isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x):
        arrays = [np.asarray(a, dtype=np.float64) for a in x]
        counts = {a.shape[0] if a.ndim else 1 for a in arrays}
        if len(counts) != 1:
            raise InputError(
                "calibration: every input's array needs the same number of samples "
                f"(first axis), got {[a.shape[0] if a.ndim else 1 for a in arrays]}"
            )
        n = counts.pop()
        return [a.reshape(n, -1)[i].tolist() for i in range(n) for a in arrays]
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        raise InputError("calibration: expected an array of samples (first axis), got a scalar")
    return a.reshape(a.shape[0], -1).tolist()


def _array(t: Optional[Dict[str, Any]]) -> Optional[np.ndarray]:
    """A proof file's tensor ({shape, scale, floats, ...}) as a numpy array."""
    if t is None:
        return None
    return np.asarray(t["floats"], dtype=np.float64).reshape(t["shape"])


def compile(
    model: Union[PathLike, bytes],
    calibration: Any,
    out: PathLike,
    *,
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
) -> Dict[str, Any]:
    """Compile an ONNX model into ``out`` (model.zkm and report.json).

    ``model`` is a path or the ONNX bytes. ``calibration`` is an input file in EZKL's
    format, or an array whose first axis is the sample (a tuple of arrays for a model with
    several inputs). The other options are those of ``zkinfer compile --help``; ``None``
    leaves an option at that command's default.

    Returns the compile report (report.json) as a dict: ``plan`` (k, columns),
    ``accuracy`` (error against the float model), ``model_hash``...
    """
    kwargs: Dict[str, Any] = dict(
        scale=scale,
        weight_scale=weight_scale,
        headroom_bits=headroom_bits,
        bound_headroom_bits=bound_headroom_bits,
        max_error=max_error,
        table_scale=table_scale,
        max_lanes=max_lanes,
        input_visibility=input_visibility,
        output_visibility=output_visibility,
        param_visibility=param_visibility,
    )
    if isinstance(model, (bytes, bytearray)):
        kwargs["model_bytes"] = bytes(model)
    else:
        kwargs["model_path"] = os.fspath(model)
    if _is_path(calibration):
        kwargs["calibration_path"] = os.fspath(calibration)
    else:
        kwargs["calibration"] = _calibration_lists(calibration)
    return json.loads(_native.compile_model(os.fspath(out), **kwargs))


def setup(
    dir: PathLike, *, srs: Optional[PathLike] = None, insecure_test_srs: bool = False
) -> Dict[str, Any]:
    """Generate the proving and verifying keys (DIR/pk.bin, DIR/vk.bin).

    Pass ``srs`` (a file from ``zkinfer srs import``) for real use, or
    ``insecure_test_srs=True`` for tests: whoever made that SRS could forge proofs.

    Returns ``{"key_digest", "k", "srs_s", "keygen_s"}``.
    """
    return json.loads(
        _native.setup(
            os.fspath(dir),
            srs=None if srs is None else os.fspath(srs),
            insecure_test_srs=insecure_test_srs,
        )
    )


@dataclass
class Proof:
    """A proof and what it claims.

    ``bytes`` is the raw proof, ``json`` the proof file ``zkinfer verify`` reads,
    ``output`` the model's output (also when the proof hides it: only the prover knows it
    then), ``salt`` the fresh secret salt of a hashed input or output (keep it secret).
    """

    json: str
    output: Optional[np.ndarray]
    model_hash: str
    instances: List[str]
    input_hash: Optional[str] = None
    output_hash: Optional[str] = None
    param_hash: Optional[str] = None
    salt: Optional[str] = None
    prove_s: float = 0.0
    outputs: Dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def bytes(self) -> bytes:
        """The proof bytes (SHPLONK, Keccak transcript)."""
        return bytes.fromhex(json.loads(self.json)["proof"])

    def save(self, path: PathLike) -> None:
        """Write the proof file (what ``zkinfer verify VK PATH`` reads)."""
        tmp = os.fspath(path) + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.json)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: PathLike) -> "Proof":
        """Read a proof file written by ``save`` or ``zkinfer prove``."""
        with open(path, encoding="utf-8") as f:
            return cls._from_json(f.read(), None, None, 0.0)

    @classmethod
    def _from_json(
        cls, text: str, output: Optional[np.ndarray], salt: Optional[str], prove_s: float
    ) -> "Proof":
        p = json.loads(text)
        public = _array(p.get("output"))
        return cls(
            json=text,
            output=output if output is not None else public,
            model_hash=p["model_hash"],
            instances=list(p["instances"]),
            input_hash=p.get("input_hash"),
            output_hash=p.get("output_hash"),
            param_hash=p.get("param_hash"),
            salt=salt,
            prove_s=prove_s,
            outputs={o["name"]: _array(o) for o in p.get("outputs", [])},
        )


def prove(
    dir: PathLike,
    input: Any,
    *,
    row: int = 0,
    salt: Optional[str] = None,
    device: str = "auto",
) -> Proof:
    """Run the compiled model in ``dir`` on ``input`` and prove the output.

    ``input`` is an input file in EZKL's format (then ``row`` picks the sample), or one
    sample as an array (a tuple of arrays for a model with several inputs). ``salt`` is
    the hex salt of a hashed input (default: a fresh one, returned as ``Proof.salt``).
    ``device``: "auto", "cpu" or "cuda".
    """
    kwargs: Dict[str, Any] = dict(row=row, salt=salt, device=device)
    if _is_path(input):
        kwargs["input_path"] = os.fspath(input)
    else:
        kwargs["input"] = _sample_lists(input)
    proof_json, meta_json = _native.prove(os.fspath(dir), **kwargs)
    meta = json.loads(meta_json)
    return Proof._from_json(proof_json, _array(meta["output"]), meta["fresh_salt"], meta["prove_s"])


@dataclass
class Verified:
    """A proof that verified: its output (None when the key hides it), the key digest,
    whether the key came from an insecure test SRS, and the EVM gas when checked there."""

    output: Optional[np.ndarray]
    key_digest: str
    insecure_srs: bool
    gas: Optional[int]
    verify_s: float


def verify(
    vk: PathLike,
    proof: Union[Proof, PathLike, bytes],
    *,
    evm: bool = False,
    model: Optional[PathLike] = None,
    srs: Optional[PathLike] = None,
    onnx: Optional[PathLike] = None,
) -> Verified:
    """Verify ``proof`` (a :class:`Proof`, a proof file's path, or its JSON bytes) against
    the verifying key ``vk`` (DIR/vk.bin).

    ``evm=True`` checks it with the Solidity verifier in an embedded EVM. ``model`` (the
    compiled model's directory) first checks that the key is that model's; ``onnx`` also
    checks the source file's hash. Raises :class:`VerificationError` when rejected.
    """
    if isinstance(proof, Proof):
        text = proof.json
    elif isinstance(proof, (bytes, bytearray)):
        text = bytes(proof).decode("utf-8")
    else:
        with open(proof, encoding="utf-8") as f:
            text = f.read()
    opt = lambda p: None if p is None else os.fspath(p)  # noqa: E731
    r = json.loads(
        _native.verify(
            os.fspath(vk), text, evm=evm, model=opt(model), srs=opt(srs), onnx=opt(onnx)
        )
    )
    return Verified(
        output=_array(r["output"]),
        key_digest=r["key_digest"],
        insecure_srs=r["insecure_srs"],
        gas=r["gas"],
        verify_s=r["verify_s"],
    )


def run(
    dir: PathLike, input: Any, *, row: int = 0, device: str = "auto"
) -> Union[np.ndarray, Dict[str, np.ndarray]]:
    """Run the compiled model in ``dir`` on ``input`` (no proof).

    Returns the output as a numpy array, or a dict of arrays by output name for a model
    with several outputs. The values are exactly what a proof would show.
    """
    kwargs: Dict[str, Any] = dict(row=row, device=device)
    if _is_path(input):
        kwargs["input_path"] = os.fspath(input)
    else:
        kwargs["input"] = _sample_lists(input)
    r = json.loads(_native.run(os.fspath(dir), **kwargs))
    if r["parts"]:
        return {p["name"]: _array(p) for p in r["parts"]}
    out = _array(r["output"])
    assert out is not None
    return out


def export_verifier(
    dir: PathLike, out: Optional[PathLike] = None, weights_from: Optional[PathLike] = None
) -> Dict[str, Any]:
    """The Solidity verifier of the key in ``dir`` (DIR/vk.bin, or a vk.bin path).

    With committed parameters the contract is for one weight set: ``weights_from`` is a
    proof of it. Returns ``{"source", "key_digest", "calldata_len", "msm_terms", ...}``;
    with ``out``, also writes the source there.
    """
    wf = None if weights_from is None else os.fspath(weights_from)
    r: Dict[str, Any] = json.loads(_native.export_verifier(os.fspath(dir), wf))
    if out is not None:
        tmp = os.fspath(out) + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(r["source"])
        os.replace(tmp, out)
    return r
