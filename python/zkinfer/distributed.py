"""Proving a chunked model on a Ray cluster: one Ray task per chunk.

A chunked model (``zkinfer compile --chunks N`` or :func:`chunk`) proves as N ordinary
circuits whose boundaries are linked by salted commitments. The model runs once here (the
driver) to get every chunk's input; then each chunk is a Ray task that calls the Rust prover
through this package. Ray schedules the tasks and retries one whose worker dies
(``max_retries``); the result is the same bundle ``zkinfer prove`` writes, checked by
:func:`verify` or ``zkinfer verify DIR proof.json``.

Keys: every worker reads the chunk's keys from ``model_dir``, so the directory must be at
a path every node sees (a shared or replicated filesystem). Rebuilding keys on each worker
would cost a setup per chunk per node; reading them costs a file read.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional

from . import _native
from . import _sample_lists, _is_path


def chunk(dir: "os.PathLike[str] | str", chunks: Optional[int] = None, max_k: Optional[int] = None) -> Dict[str, Any]:
    """Splits the compiled model in ``dir`` into ``chunks`` chunks (or as few as keep every
    chunk's circuit at k <= ``max_k``); returns the manifest (``chunks.json``)."""
    return json.loads(_native.chunk_model(os.fspath(dir), chunks, max_k))


def setup(dir: "os.PathLike[str] | str", srs: Optional[str] = None, insecure_test_srs: bool = False) -> List[str]:
    """Keys for every chunk of the chunked model in ``dir``; returns their key digests."""
    return json.loads(_native.setup_chunks(os.fspath(dir), srs, insecure_test_srs))


def _prove_chunk(model_dir: str, job_json: str, salt: str) -> str:
    from . import _native as native  # imported on the worker

    return native.prove_chunk(model_dir, job_json, salt, "cpu")


def prove(
    model_dir: "os.PathLike[str] | str",
    x: Any,
    address: Optional[str] = None,
    row: int = 0,
    salt: Optional[str] = None,
    max_retries: int = 3,
    on_submitted: Optional[Callable[[List[Any]], None]] = None,
) -> Dict[str, Any]:
    """Proves input ``x`` (an array, or an input file's path and ``row``) for the chunked model
    in ``model_dir`` with one Ray task per chunk; returns the bundle (what ``zkinfer prove``
    writes for a chunked model).

    ``address`` is the Ray cluster's (``ray.init(address=...)``); without it an already
    initialized Ray is used, or a local one is started. ``on_submitted`` is called with the
    task references once every chunk is submitted (tests use it to kill a worker).
    """
    import ray

    if not ray.is_initialized():
        ray.init(address=address)
    model_dir = os.path.abspath(os.fspath(model_dir))
    if _is_path(x):
        plan = json.loads(_native.chunk_jobs(model_dir, input_path=os.fspath(x), row=row, salt=salt, device="cpu"))
    else:
        plan = json.loads(_native.chunk_jobs(model_dir, input=_sample_lists(x), salt=salt, device="cpu"))
    task = ray.remote(num_cpus=1, max_retries=max_retries)(_prove_chunk)
    refs = [task.remote(model_dir, json.dumps(job), plan["salt"]) for job in plan["chunks"]]
    if on_submitted is not None:
        on_submitted(refs)
    proofs = [json.loads(p) for p in ray.get(refs)]
    return {
        "format": "zkinfer-chunked-proof",
        "version": 1,
        "model_hash": plan["model_hash"],
        "chunks": proofs,
    }


def verify(model_dir: "os.PathLike[str] | str", bundle: Dict[str, Any], evm: bool = False) -> Dict[str, Any]:
    """Verifies a bundle against the chunk keys of ``model_dir``: every chunk proof and every
    link. Raises :class:`zkinfer.VerificationError` when any fails, naming the chunk."""
    return json.loads(_native.verify_chunked(os.fspath(model_dir), json.dumps(bundle), evm))
