"""The Python package end to end on small committed ONNX fixtures: compile, setup, prove,
verify (offline and EVM), run, export_verifier, the exceptions, and that proving releases
the GIL."""

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import zkinfer

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"
MLP = FIXTURES / "torch_mlp"  # Gemm, Relu: input [1, 6], output [1, 3]
TWO = FIXTURES / "two_inputs_two_outputs"  # inputs [1, 4] and [1, 4], outputs y and z


def rows(fixture):
    return np.asarray(json.loads((fixture / "input.json").read_text())["input_data"])


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """torch_mlp compiled from a numpy calibration array and set up with a test SRS."""
    out = tmp_path_factory.mktemp("mlp")
    calib = rows(MLP).reshape(-1, 1, 6)
    report = zkinfer.compile(MLP / "model.onnx", calib, out)
    keys = zkinfer.setup(out, insecure_test_srs=True)
    return out, report, keys


def test_compile_report_and_files(mlp):
    out, report, keys = mlp
    assert (out / "model.zkm").is_file() and (out / "report.json").is_file()
    assert report["calibration_rows"] == 4
    assert report["plan"]["params"]["k"] == keys["k"]
    assert report["accuracy"]["output_max_abs_error"] <= report["max_error"]
    assert keys["key_digest"].startswith("0x") and len(keys["key_digest"]) == 66
    assert (out / "pk.bin").is_file() and (out / "vk.bin").is_file()


def test_prove_verify_numpy_round_trip(mlp):
    out, _, keys = mlp
    x = rows(MLP)[1].reshape(1, 6)
    proof = zkinfer.prove(out, x)
    assert proof.output.shape == (1, 3)
    assert isinstance(proof.bytes, bytes) and len(proof.bytes) > 100
    assert proof.salt is None  # nothing is hashed
    # The proof's output is exactly what `run` computes, and close to onnxruntime's.
    np.testing.assert_array_equal(proof.output, zkinfer.run(out, x))
    expected = json.loads((MLP / "expected.json").read_text())["outputs"][0]["values"]
    ran_row0 = zkinfer.run(out, MLP / "input.json", row=0)
    np.testing.assert_allclose(ran_row0.ravel(), expected, atol=1e-3)
    v = zkinfer.verify(out / "vk.bin", proof)
    assert v.key_digest == keys["key_digest"]
    assert v.insecure_srs is True
    assert v.gas is None
    np.testing.assert_array_equal(v.output, proof.output)


def test_verify_in_evm_and_with_model_check(mlp, tmp_path):
    out, _, _ = mlp
    proof = zkinfer.prove(out, MLP / "input.json", row=2)
    path = tmp_path / "proof.json"
    proof.save(path)
    v = zkinfer.verify(out / "vk.bin", path, evm=True, model=out, onnx=MLP / "model.onnx")
    assert v.gas is not None and 200_000 < v.gas < 2_000_000
    assert zkinfer.Proof.load(path).json == proof.json


def test_tampered_proof_is_rejected(mlp):
    out, _, _ = mlp
    proof = zkinfer.prove(out, rows(MLP)[0])
    p = json.loads(proof.json)
    # A wrong output claim: bump the last output instance by one.
    last = int(p["instances"][-1], 16)
    p["instances"][-1] = "0x" + format(last + 1, "064x")
    with pytest.raises(zkinfer.VerificationError) as e:
        zkinfer.verify(out / "vk.bin", json.dumps(p).encode())
    assert "does not verify" in str(e.value)
    # A flipped proof byte.
    raw = bytearray(proof.bytes)
    raw[40] ^= 1
    p = json.loads(proof.json)
    p["proof"] = raw.hex()
    with pytest.raises(zkinfer.VerificationError):
        zkinfer.verify(out / "vk.bin", json.dumps(p).encode(), evm=True)


def test_bad_input_names_the_input_and_writes_nothing(mlp, tmp_path):
    out, _, _ = mlp
    with pytest.raises(zkinfer.InputError) as e:
        zkinfer.prove(out, np.zeros(5))
    assert "5 values" in str(e.value) and "needs 6" in str(e.value)
    with pytest.raises(zkinfer.InputError) as e:
        zkinfer.run(out, np.full(6, np.nan))
    assert "not a finite number" in str(e.value)
    with pytest.raises(zkinfer.ZkinferError) as e:
        zkinfer.prove(tmp_path / "missing", np.zeros(6))
    assert "missing" in str(e.value)
    with pytest.raises(zkinfer.InputError):
        zkinfer.prove(out, np.zeros(6), device="tpu")
    with pytest.raises(zkinfer.InputError) as e:
        zkinfer.compile(b"not an onnx file", rows(MLP), tmp_path / "bad")
    assert not (tmp_path / "bad" / "model.zkm").exists()
    with pytest.raises(zkinfer.ZkinferError):
        zkinfer.setup(out)  # no SRS chosen


def test_export_verifier(mlp, tmp_path):
    out, _, keys = mlp
    sol = tmp_path / "Verifier.sol"
    r = zkinfer.export_verifier(out, sol)
    assert "contract ModelVerifier" in sol.read_text()
    assert r["key_digest"] == keys["key_digest"]
    assert r["calldata_len"] > 0 and r["insecure_srs"] is True


def test_proving_releases_the_gil(mlp):
    out, _, _ = mlp
    x = rows(MLP)[3]
    done = threading.Event()
    result = {}

    def work():
        result["proofs"] = [zkinfer.prove(out, x) for _ in range(3)]
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    # While the GIL is held for a whole proof this loop cannot run at all.
    assert ticks > 20
    assert len(result["proofs"]) == 3


def test_from_bytes_hashed_input_and_two_inputs(tmp_path):
    out = tmp_path / "two"
    data = rows(TWO)
    # One list per graph input, per sample: split the file's lists into the two inputs.
    a, b = data[0::2].reshape(-1, 1, 4), data[1::2].reshape(-1, 1, 4)
    zkinfer.compile(
        (TWO / "model.onnx").read_bytes(), (a, b), out, input_visibility="hashed"
    )
    zkinfer.setup(out, insecure_test_srs=True)
    proof = zkinfer.prove(out, (a[0], b[0]))
    assert proof.input_hash is not None and proof.salt is not None
    assert set(proof.outputs) == {"y", "z"}
    ran = zkinfer.run(out, (a[0], b[0]))
    np.testing.assert_array_equal(ran["y"], proof.outputs["y"])
    v = zkinfer.verify(out / "vk.bin", proof)
    assert v.output is not None
    # The same input with the same salt gives the same commitment.
    again = zkinfer.prove(out, (a[0], b[0]), salt=proof.salt)
    assert again.input_hash == proof.input_hash


def test_torch_example_script(tmp_path):
    """The README's PyTorch -> ONNX -> proof -> verify script, where torch is installed
    (CI installs only the package's own dependencies)."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "examples" / "torch_to_proof.py"
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "verified offline" in r.stdout
    assert (tmp_path / "proof.json").is_file()


EXTERNAL = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "external_data"


def test_weights_in_an_external_data_file(tmp_path):
    """PyTorch writes large weights to model.onnx.data beside model.onnx: compiling the file
    reads them; compiling its bytes alone says to pass the path."""
    out = tmp_path / "ext"
    report = zkinfer.compile(EXTERNAL / "model.onnx", EXTERNAL / "input.json", out)
    expected = json.loads((EXTERNAL / "expected.json").read_text())["outputs"][0]
    ran = zkinfer.run(out, EXTERNAL / "input.json")
    tol = report["accuracy"]["output_max_abs_error"] + 1e-6
    np.testing.assert_allclose(ran.ravel(), expected, atol=tol)
    with pytest.raises(zkinfer.InputError) as e:
        zkinfer.compile((EXTERNAL / "model.onnx").read_bytes(), EXTERNAL / "input.json", tmp_path / "b")
    assert "model.onnx.data" in str(e.value) and "from its path" in str(e.value)
