"""A PyTorch model to a verified proof: export to ONNX, compile, set up, prove, verify.

    pip install ./python torch onnxscript
    python python/examples/torch_to_proof.py [WORK_DIR]

Prints the float output, the proved output and the verifier's result. The SRS is the
insecure test one: fine for trying it out, not for proofs anyone else relies on.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import zkinfer


def main(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    # 1. A model (here a small trained-or-not MLP) and its ONNX export.
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
    ).eval()
    x = torch.randn(1, 8)
    onnx_path = work / "model.onnx"
    torch.onnx.export(model, (x,), str(onnx_path), input_names=["x"], output_names=["y"])

    # 2. Compile against calibration samples (first axis: the sample), then make the keys.
    calibration = torch.randn(32, 1, 8).numpy()
    report = zkinfer.compile(onnx_path, calibration, work / "build")
    print(f"compiled: k = {report['plan']['params']['k']}, "
          f"max error {report['accuracy']['output_max_abs_error']:.2e}")
    zkinfer.setup(work / "build", insecure_test_srs=True)

    # 3. Prove one inference, and check it offline and in the embedded EVM.
    proof = zkinfer.prove(work / "build", x.numpy())
    proof.save(work / "proof.json")
    offline = zkinfer.verify(work / "build" / "vk.bin", proof)
    on_chain = zkinfer.verify(work / "build" / "vk.bin", proof, evm=True)

    with torch.no_grad():
        expected = model(x).numpy()
    print("torch output :", np.round(expected, 4))
    print("proved output:", np.round(proof.output, 4))
    print(f"verified offline in {offline.verify_s * 1000:.1f} ms and in the EVM "
          f"for {on_chain.gas} gas; proof {len(proof.bytes)} bytes, "
          f"proved in {proof.prove_s:.2f} s")
    np.testing.assert_allclose(proof.output, expected, atol=1e-2)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="zkinfer-")))
