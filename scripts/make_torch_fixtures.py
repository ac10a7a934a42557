"""Writes the PyTorch- and hummingbird-exported fixtures into tests/fixtures/ops/.

Usage: make_torch_fixtures.py [DIR [NAME...]]. Needs torch, onnxscript (the default, dynamo
exporter), hummingbird-ml and scikit-learn besides make_op_fixtures.py's packages. Each model is
exported as a user would, with its weights drawn from a generator seeded by its name, and
written with onnxruntime's output by make_op_fixtures.Fixture.
"""

import io
import os
import sys
import warnings
import zlib

import numpy as np
import onnx
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import Fixture, uniform  # noqa: E402

warnings.filterwarnings("ignore")


def seeded(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def export(name, module, example, opset, dynamo, note):
    """Exports `module` at `example` the way a user would, as a fixture."""
    module.eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, example, buf, opset_version=opset, dynamo=dynamo,
                          input_names=["x"], output_names=["y"])
    model = onnx.load_from_string(buf.getvalue())
    inits = {t.name for t in model.graph.initializer}
    inputs = [(v.name, tuple(example.shape), uniform(-1, 1))
              for v in model.graph.input if v.name not in inits]
    fx = Fixture(name, [], inputs, [o.name for o in model.graph.output], note=note)
    fx.model = model
    return fx


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        return self.net(x)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))

    def forward(self, x):
        return self.head(self.features(x))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


class Block(nn.Module):
    """A pre-norm transformer block: attention with two heads, then a GELU MLP."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.d, self.heads = d, heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.reshape(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-2, -1) / (d // h) ** 0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


def torch_models():
    out = []
    for name, module, shape, opset, dynamo, note in [
        ("torch_mlp", Mlp, (1, 6), 18, True, "nn.Sequential MLP, the default exporter"),
        ("torch_lenet", LeNet, (1, 1, 14, 14), 18, True, "a small LeNet, the default exporter"),
        ("torch_lstm_classifier", LstmClassifier, (1, 3, 4), 17, False,
         "nn.LSTM and a Linear head on the last hidden state (TorchScript exporter)"),
        ("torch_transformer_opset17", Block, (1, 4, 8), 17, False,
         "a transformer block, TorchScript exporter at opset 17"),
        ("torch_transformer_ln_decomposed", Block, (1, 4, 8), 14, False,
         "the same block at opset 14: LayerNorm decomposed into ReduceMean, Pow, Sqrt, Div"),
        ("torch_transformer_dynamo", Block, (1, 4, 8), 18, True,
         "the same block through the default (torch.export) exporter"),
    ]:
        seeded(name)
        out.append(export(name, module(), torch.zeros(shape), opset, dynamo, note))
    return out


def hummingbird_models():
    """Tree ensembles trained on a small synthetic problem, converted by hummingbird."""
    import hummingbird.ml
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    # hummingbird 0.4 calls torch.onnx.export the TorchScript way; newer torch defaults to dynamo.
    plain_export = torch.onnx.export

    def torchscript_export(*args, **kwargs):
        kwargs.setdefault("dynamo", False)
        return plain_export(*args, **kwargs)

    torch.onnx.export = torchscript_export
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(200, 4)).astype(np.float32)
    y = ((x[:, 0] + x[:, 1] * x[:, 2]) > 0).astype(np.int64) + (x[:, 3] > 0.5)
    out = []
    for name, est in [
        ("hb_decision_tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("hb_random_forest", RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)),
        ("hb_gradient_boosting", GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0)),
    ]:
        est.fit(x, y)
        hb = hummingbird.ml.convert(est, "onnx", x[:1], extra_config={"onnx_target_opset": 17})
        model = hb.model
        inits = {t.name for t in model.graph.initializer}
        inputs = [(v.name, (1, 4), uniform(-1, 1)) for v in model.graph.input if v.name not in inits]
        fx = Fixture(name, [], inputs, [o.name for o in model.graph.output],
                     note=f"scikit-learn {type(est).__name__} converted by hummingbird")
        fx.model = model
        out.append(fx)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/ops"
    only = set(sys.argv[2:])
    for fx in torch_models() + hummingbird_models():
        if not only or fx.name in only:
            fx.write(root)
            print(fx.name)


if __name__ == "__main__":
    main()
