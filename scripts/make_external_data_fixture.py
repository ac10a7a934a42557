"""Writes tests/fixtures/external_data/: a small MLP (8 -> 16 -> 3) exported by PyTorch's default exporter
to a file path, which keeps the weights in `model.onnx.data` beside `model.onnx`, with four
input rows and onnxruntime's outputs.

Usage: make_external_data_fixture.py [DIR]. Needs torch, onnxscript, onnx and onnxruntime.
"""

import json
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

warnings.filterwarnings("ignore")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/external_data"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20261207)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 8),), path, dynamo=True, external_data=True,
                          input_names=["x"], output_names=["y"])
    m = onnx.load(path, load_external_data=False)
    external = [t.name for t in m.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    assert external, "the exporter kept every weight inside model.onnx"
    rng = np.random.default_rng(3)
    rows = rng.uniform(-1, 1, size=(4, 1, 8)).astype(np.float32)
    sess = ort.InferenceSession(path)
    outputs = [sess.run(None, {"x": r})[0].ravel().tolist() for r in rows]
    with open(os.path.join(out, "input.json"), "w") as f:
        json.dump({"input_data": [r.ravel().tolist() for r in rows]}, f)
        f.write("\n")
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"external_tensors": external, "outputs": outputs}, f, indent=1)
        f.write("\n")
    print(f"{out}: {len(external)} external tensors")


if __name__ == "__main__":
    main()
