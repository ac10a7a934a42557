"""Writes the deep-model fixtures: GPT-style decoders, an encoder classifier and a ResNet.

Usage: make_deep_fixtures.py [DIR [NAME...]] (default DIR: tests/fixtures/deep). Needs torch
besides make_op_fixtures.py's packages. Each model is exported as a user would
(`torch.onnx.export`, TorchScript exporter, opset 17) with PyTorch's default initialisation
from a generator seeded by its name, BatchNorm running statistics drawn away from 0/1, and
written with onnxruntime's output by make_op_fixtures.Fixture. The `*_tiny` models are the
same architectures at sizes the CI proves; the others are the sizes the benchmarks measure.
"""

import io
import math
import os
import sys
import warnings
import zlib

import numpy as np
import onnx
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_op_fixtures import Fixture  # noqa: E402

warnings.filterwarnings("ignore")


def seeded(name):
    torch.manual_seed(zlib.crc32(name.encode()))


class Attention(nn.Module):
    """Causal self-attention from a fused QKV projection split into heads.

    `mask` is "masked_fill" (`masked_fill(causal == 0, -inf)`, as nanoGPT writes it) or
    "additive" (a Hugging Face-style additive mask of `finfo.min` passed in)."""

    def __init__(self, d, heads, seq, mask):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.heads, self.mask = heads, mask
        self.register_buffer("causal", torch.tril(torch.ones(seq, seq)).view(1, 1, seq, seq))

    def forward(self, x, additive=None):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        hd = d // self.heads
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        if self.mask == "masked_fill":
            att = att.masked_fill(self.causal[:, :, :t, :t] == 0, float("-inf"))
        else:
            att = att + additive
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, d)
        return self.proj(y)


class DecoderBlock(nn.Module):
    """Pre-norm GPT block: attention, then a GELU (tanh) MLP, each with a residual add."""

    def __init__(self, d, heads, seq, mask):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads, seq, mask)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x, additive=None):
        x = x + self.attn(self.ln1(x), additive)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    """Token and learned position embeddings, decoder blocks, final LayerNorm, LM head; the
    output is the last position's logits."""

    def __init__(self, vocab, d, heads, seq, blocks, mask="masked_fill"):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList(DecoderBlock(d, heads, seq, mask) for _ in range(blocks))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.mask = mask
        with torch.no_grad():  # GPT-2's init: embeddings N(0, 0.02)
            self.tok.weight.normal_(0, 0.02)
            self.pos.weight.normal_(0, 0.02)

    def forward(self, ids, attention_mask=None):
        t = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))
        additive = None
        if self.mask == "additive":
            # Hugging Face: causal and padding masks as additive finfo.min.
            low = torch.finfo(torch.float32).min
            causal = torch.full((t, t), low).triu(1).view(1, 1, t, t)
            pad = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * low
            additive = causal + pad
        for block in self.blocks:
            x = block(x, additive)
        return self.head(self.ln(x))[:, -1, :]


class EncoderBlock(nn.Module):
    """Post-norm (BERT-style) encoder block, bidirectional attention."""

    def __init__(self, d, heads):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)
        self.ln2 = nn.LayerNorm(d)
        self.heads = heads

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = (z.view(b, t, self.heads, hd).transpose(1, 2) for z in self.qkv(x).split(d, dim=2))
        att = F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(hd), dim=-1)
        y = self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        x = self.ln1(x + y)
        return self.ln2(x + self.out(F.gelu(self.fc(x))))


class Encoder(nn.Module):
    """Encoder classifier on token features: blocks, mean over the sequence, a linear head."""

    def __init__(self, d, heads, blocks, classes):
        super().__init__()
        self.blocks = nn.Sequential(*(EncoderBlock(d, heads) for _ in range(blocks)))
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        return self.head(self.blocks(x).mean(dim=1))


class Basic(nn.Module):
    """ResNet basic block: two 3x3 convolutions with BatchNorm, a projected shortcut when the
    shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    """A ResNet-10-style CNN: stem, one basic block per stage, global average pool, head."""

    def __init__(self, widths, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, cin = [], widths[0]
        for i, w in enumerate(widths):
            stages.append(Basic(cin, w, 1 if i == 0 else 2))
            cin = w
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


def trained_batchnorm(module, gen):
    """Running statistics like a trained network's: means around 0, variances around 1, not
    exactly either; affine parameters near 1 and 0."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.25)
                m.weight.copy_(1.0 + torch.randn(n, generator=gen) * 0.1)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)


def export(name, module, examples, input_names, samplers, note):
    """Exports `module` at `examples` as a user would, as a fixture sampling its inputs with
    `samplers` (one per input)."""
    module.eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, examples, buf, opset_version=17, dynamo=False,
                          input_names=input_names, output_names=["y"])
    model = onnx.load_from_string(buf.getvalue())
    inputs = [(n, tuple(e.shape), s) for n, e, s in zip(input_names, examples, samplers)]
    fx = Fixture(name, [], inputs, ["y"], note=note)
    fx.model = model
    return fx


def token_ids(vocab):
    return lambda shape, rng: rng.integers(0, vocab, size=shape, dtype=np.int64)


def left_padding(shape, rng):
    """An attention mask with 0 to 3 left-padded positions."""
    mask = np.ones(shape, dtype=np.int64)
    mask[..., : rng.integers(0, 4)] = 0
    return mask


def normal(shape, rng):
    return rng.standard_normal(size=shape).astype(np.float32)


def gpt(name, vocab, d, heads, seq, blocks):
    seeded(name)
    ids = torch.zeros(1, seq, dtype=torch.int64)
    return export(name, Gpt(vocab, d, heads, seq, blocks), (ids,), ["ids"], [token_ids(vocab)],
                  f"GPT-style decoder: {blocks} blocks, vocab {vocab}, d {d}, {heads} heads, seq {seq}, "
                  "causal masked_fill(-inf), GELU tanh, last position's logits")


def gpt_hf(name, vocab, d, heads, seq, blocks):
    seeded(name)
    ids = torch.zeros(1, seq, dtype=torch.int64)
    mask = torch.ones(1, seq, dtype=torch.int64)
    return export(name, Gpt(vocab, d, heads, seq, blocks, mask="additive"), (ids, mask),
                  ["input_ids", "attention_mask"], [token_ids(vocab), left_padding],
                  f"GPT-style decoder with a Hugging Face-style additive finfo.min mask and an "
                  f"attention-mask input: {blocks} blocks, vocab {vocab}, d {d}, seq {seq}")


def encoder(name, d, heads, seq, blocks, classes):
    seeded(name)
    x = torch.zeros(1, seq, d)
    return export(name, Encoder(d, heads, blocks, classes), (x,), ["x"], [normal],
                  f"encoder classifier: {blocks} post-norm blocks, d {d}, seq {seq}, mean-pooled head")


def resnet(name, widths, size, classes):
    seeded(name)
    net = ResNet(widths, classes)
    trained_batchnorm(net, torch.Generator().manual_seed(zlib.crc32(name.encode())))
    x = torch.zeros(1, 3, size, size)
    return export(name, net, (x,), ["x"], [normal],
                  f"ResNet-10-style CNN on 3x{size}x{size}: stages {widths}, BatchNorm, global average pool")


def fixtures():
    return [
        gpt("gpt_decoder", 256, 48, 4, 16, 6),
        gpt_hf("gpt_decoder_hf_mask", 256, 48, 4, 16, 6),
        encoder("encoder_classifier", 64, 4, 16, 4, 10),
        resnet("resnet10", [16, 32, 64], 32, 10),
        gpt("gpt_decoder_tiny", 32, 16, 2, 8, 2),
        gpt_hf("gpt_decoder_hf_mask_tiny", 32, 16, 2, 8, 2),
        encoder("encoder_classifier_tiny", 16, 2, 8, 2, 4),
        resnet("resnet_tiny", [4, 8], 8, 4),
    ]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/deep"
    only = set(sys.argv[2:])
    for fx in fixtures():
        if not only or fx.name in only:
            fx.write(root)
            print(fx.name)


if __name__ == "__main__":
    main()
