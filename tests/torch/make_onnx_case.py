#!/usr/bin/env python3
"""End-to-end cases for `effvk run --onnx` against PyTorch (run with Debian's
/usr/bin/python3, which has python3-torch and python3-torchvision; the
`onnx` Python package is not needed: torch.onnx.export writes the file
itself, and ops_of() below reads it back).

Every graph is exported by torch.onnx.export with opset_version 13,
do_constant_folding=True (which folds each eval-mode BatchNorm that follows
a Conv into the Conv, and HetConv's weight * mask into one initializer),
input name "input", output name "logits" and a dynamic batch axis ("batch")
on both.

    make_onnx_case.py make NAME DIR
        NAME: efficientnet_b0, resnet50, mobilenet_v2 (torchvision, 1000
        classes), hetconv-vgg16-cifar (part 4, 10 classes),
        hetconv-resnet34 (part 8, 1000 classes) or octconv-resnet50 (alpha
        0.25, 1000 classes; tools/effvk_torch.py). Random weights and
        BatchNorm statistics as make_efficientnet_case.py's randomize()
        makes them (HetConv's as make_nets_case.py's randomize_hetconv()),
        eval mode, refused like make_efficientnet_case.py's cases when
        PyTorch's fp32 and fp64 logits disagree or the two images' logits do
        not differ. DIR/model.onnx, DIR/input.npy (batch 2, INPUT_SHAPE) and
        DIR/expected.npy (PyTorch's logits); prints the graph's ONNX ops.
    make_onnx_case.py compare DIR
        DIR/output.npy against DIR/expected.npy: exit 1 unless
        max |error| <= 1e-3 * max |logit| (make_efficientnet_case.py's
        compare) and each image has the same top 5. The top-5 rule, with
        tol = 1e-3 * max |expected logit| over the whole batch: rank the
        image's 5 largest logits of each, e[0..4] by PyTorch's, g[0..4] by
        effvk's; at each rank k, g[k] == e[k] or PyTorch's logits of the
        two classes are within tol: |expected[g[k]] - expected[e[k]]| <=
        tol. So two near-tied classes may swap, and a class PyTorch ranks
        6th may take 5th place when it ties the 5th, but nothing else.
    make_onnx_case.py compare_any DIR
        the error bound alone (outputs that are not logits: the near-miss
        cases).
    make_onnx_case.py nearmiss DIR
        the small graphs of the fusion passes' near-miss tests, each
        DIR/CASE/model.onnx, input.npy and expected.npy (CASES below; each
        a single-input, single-output graph, batch 2).
    make_onnx_case.py ops FILE.onnx
        the graph's nodes in order: op type, attributes, and the values of
        small constants.

The near-miss cases (NEARMISS):
    se_ok, se_relu: torchvision's MBConv (efficientnet.MBConv, 12 -> 12
        channels, expand ratio 4 so 48 expanded, 3x3 depthwise stride 1,
        squeeze 3, residual add) on 2x12x15x15: expand 1x1 conv + BN +
        SiLU, depthwise 3x3 conv + BN + SiLU, SE (global average pool, 1x1
        conv, SiLU, 1x1 conv, Sigmoid, Mul), project 1x1 conv + BN, add.
        se_relu has ReLU in the SE instead of SiLU: not an MBConv to fuse.
    hetconv_ok, hetconv_stray: tools/effvk_torch.py's HetConv2d(16, 16, 3,
        part 4) (padding 1, no bias), BatchNorm2d and ReLU on 2x16x9x11. The
        export folds weight * mask into one Conv initializer, zero where
        hetconv_mask(16, 16, 3, 4) is, and keeps the BatchNormalization
        node (as in the HetConv networks; torch folds BatchNorm only into a
        Conv whose weight is a parameter). hetconv_stray has one masked tap
        non-zero (weight[0, 1, 0, 0] = 0.01): not a HetConv.
    oct_ok, oct_stray, oct_kernel, oct_maxpool: on x, 2x16x10x14: X^H = a
        1x1 conv 16 -> 12 of x (2x12x10x14) and X^L = avg_pool2d(a 1x1 conv
        16 -> 4 of x, 2, ceil_mode=True, count_include_pad=False)
        (2x4x5x7), pooled after its conv so that no first-layer OctConv
        (conv of a pool) is there to fuse; tools/effvk_torch.py's
        OctConv2d(16, 16, 3, 0.25, 0.25) on (X^H, X^L), OctBatchNorm2d(16,
        0.25), ReLU on each side; the output cat([Y^H, interpolate(Y^L,
        scale_factor=2, mode="nearest")], 1), 2x16x10x14. (Not a channel
        Slice of x into X^H and X^L: docs/onnx.md reads Slice only as a
        crop from 0.) effvk fuses each side of an OctConv on its own (two
        octconv layers); the near misses change the Y^H side only, whose
        Y^L side may still fuse:
        oct_stray's L->H path upsamples bilinearly (align_corners=False: a
        Resize "linear" "half_pixel", which docs/onnx.md does not list, so
        run_onnx_nearmiss.sh accepts a refusal naming '/conv/Resize');
        oct_kernel's L->H conv is 1x1 (the OctConv's paths must share one
        kernel). oct_maxpool pools its H->L path by a 2x2 max pool (ceil
        mode): no near miss (a fused Y^L side may read any pooled map), a
        check that it stays correct. The output's nearest upsample is the
        same in all four.
    ops: the standalone operators on 2x5x13x11 (OpsNet): Conv 3x5 with
        pads (1, 2) + BN (folded by the export) + Hardswish (opset 13:
        x * HardSigmoid(x)); AveragePool 3, stride 2, pad 1, ceil_mode,
        count_include_pad 0 and MaxPool 3, stride 2, pad 1, ceil_mode on
        it (7x6); the average pool's 1x1 conv to 5 channels and ReLU6
        (Relu, then Clip(0, 6)); the max pool's 3x3 conv (pad 1) to 7
        channels and Hardsigmoid; Concat of the two (12 channels); nearest
        Resize x2 (14x12); u + sigmoid(u) * a per-channel constant
        (1x12x1x1); the output u * gate, 2x12x14x12, gate = Gemm 12 -> 12
        of Flatten(ReduceMean of u over H and W, keepdims), Reshaped to
        [-1, 12, 1, 1] (a feature map output: every pixel counts).
    ops_pad: ops with the max pool's conv a ZeroPad2d((0, 1, 1, 0)) (left
        0, right 1, top 1, bottom 0) and a 2x2 conv without padding: torch
        1.13 exports an ONNX Pad whose pads come from a Constant,
        ConstantOfShape, Concat, Reshape, Slice (step -1), Transpose,
        Reshape, Cast chain that its constant folding leaves (it folds no
        Slice of step -1): the importer evaluates the chain and folds the
        Pad into the conv's padding, one more column at the right and one
        more row at the top than at the other ends.
"""
import os
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
sys.path.insert(0, here)
import effvk_torch  # noqa: E402
from make_efficientnet_case import BOUND, conditioned, randomize  # noqa: E402
from make_efficientnet_case import WEIGHT_GAIN as EFFICIENTNET_GAIN  # noqa: E402
from make_efficientnet_case import compare as compare_error  # noqa: E402
from make_nets_case import WEIGHT_GAIN as NETS_GAIN, randomize_hetconv  # noqa: E402

OPSET = 13
# Small inputs keep lavapipe's time modest (the sizes the --model cases use,
# at batch 2); CIFAR nets take 32x32.
INPUT_SHAPE = {"efficientnet_b0": (2, 3, 64, 64), "resnet50": (2, 3, 64, 64),
               "mobilenet_v2": (2, 3, 64, 64), "hetconv-vgg16-cifar": (2, 3, 32, 32),
               "hetconv-resnet34": (2, 3, 64, 64), "octconv-resnet50": (2, 3, 64, 64)}
GAIN = {"efficientnet_b0": EFFICIENTNET_GAIN["efficientnet_b0"]}
NEARMISS_GAIN = 1.25


def build(name):
    import torchvision
    if name in ("efficientnet_b0", "resnet50", "mobilenet_v2"):
        return getattr(torchvision.models, name)(weights=None, num_classes=1000)
    if name == "hetconv-vgg16-cifar":
        return effvk_torch.build(name, 4, 0.0, 10)
    if name == "hetconv-resnet34":
        return effvk_torch.build(name, 8, 0.0, 1000)
    if name == "octconv-resnet50":
        return effvk_torch.build(name, 0, 0.25, 1000)
    raise ValueError(f"unknown network {name!r} (known: {', '.join(INPUT_SHAPE)})")


def export(model, x, path):
    """torch.onnx.export with the cases' settings; the seconds it took."""
    import torch
    start = time.perf_counter()
    torch.onnx.export(model, (x,), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return time.perf_counter() - start


def random_case(model, shape, generator, gain, adjust=None):
    """Randomizes the model's weights (then calls adjust(model), if given);
    the input and PyTorch's output, or None when the case is
    ill-conditioned or ignores its input."""
    import torch
    randomize(model, generator, gain)
    randomize_hetconv(model, generator, gain)
    if adjust is not None:
        adjust(model)
    x = torch.empty(shape).uniform_(-2.0, 2.0, generator=generator)
    with torch.no_grad():
        out = model(x)
    spread = float((out[0] - out[1]).abs().max())
    print(f"output {tuple(out.shape)}, max |{float(out.abs().max()):.4g}|, "
          f"largest difference between the two images {spread:.4g}")
    if not conditioned(model, x, out) or spread < 0.01 or not torch.isfinite(out).all():
        print("the random case is ill-conditioned or ignores its input: change its gain")
        return None
    return x, out


def save(model, x, out, directory):
    """DIR/model.onnx, DIR/input.npy and DIR/expected.npy (save_case's
    files, with the ONNX graph instead of safetensors weights)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "model.onnx")
    seconds = export(model, x, path)
    np.save(os.path.join(directory, "input.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(directory, "expected.npy"), out.numpy().astype("<f4"))
    print(f"{path}: {os.path.getsize(path) / 1e6:.2f} MB, exported in {seconds:.2f} s")
    print("ops: " + ", ".join(f"{op} x{n}" for op, n in count_ops(path).items()))


def make(name, directory):
    import torch
    if name not in INPUT_SHAPE:
        print(f"unknown network {name!r} (known: {', '.join(INPUT_SHAPE)})", file=sys.stderr)
        return 2
    torch.manual_seed(6)
    generator = torch.Generator().manual_seed(6)
    model = build(name).eval()
    print(f"{name}:")
    case = random_case(model, INPUT_SHAPE[name], generator, GAIN.get(name, NETS_GAIN))
    if case is None:
        return 1
    save(model, *case, directory)
    return 0


# ---- the near-miss cases ---------------------------------------------------

def mbconv_block(se_activation):
    """torchvision's MBConv 12 -> 12, expand 4, 3x3 stride 1, its SE's
    activation se_activation (MBConv itself asks for SiLU)."""
    from functools import partial
    from torch import nn
    from torchvision.models.efficientnet import MBConv, MBConvConfig
    from torchvision.ops.misc import SqueezeExcitation

    def se_layer(channels, squeeze, activation):
        return SqueezeExcitation(channels, squeeze, activation=se_activation or activation)
    config = MBConvConfig(expand_ratio=4, kernel=3, stride=1, input_channels=12,
                          out_channels=12, num_layers=1)
    # The constructor rounds channels to multiples of 8 (12 -> 16): undo.
    config.input_channels = config.out_channels = 12
    return MBConv(config, 0.0, partial(nn.BatchNorm2d, eps=1e-3), se_layer)


def hetconv_block(stray):
    from torch import nn
    block = nn.Sequential(effvk_torch.HetConv2d(16, 16, 3, 4), nn.BatchNorm2d(16), nn.ReLU())
    block.hetconv_stray = stray     # applied by stray_tap() after randomize_hetconv()
    return block


def stray_tap(block):
    """hetconv_stray: one masked tap (input 1 of filter 0 is 1x1 at P = 4)
    unmasked and 0.01."""
    import torch
    conv = block[0]
    assert conv.mask[0, 1, 0, 0] == 0
    with torch.no_grad():
        conv.mask[0, 1, 0, 0] = 1.0
        conv.weight[0, 1, 0, 0] = 0.01


class NearMissOctConv2d(effvk_torch.OctConv2d):
    """OctConv2d at stride 1 with one path changed: upsample "bilinear" (its
    L->H path upsampled bilinearly, align_corners False), pool "max" (its
    H->L path pooled by a 2x2 max pool, ceil mode) or lh_kernel 1 (its L->H
    conv 1x1, the others 3x3)."""

    def __init__(self, *args, upsample="nearest", pool="avg", lh_kernel=None):
        super().__init__(*args)
        self.upsample, self.pool = upsample, pool
        if lh_kernel is not None:
            from torch import nn
            self.lh = nn.Conv2d(self.lh.in_channels, self.lh.out_channels, lh_kernel,
                                padding=lh_kernel // 2, bias=False)

    def forward(self, x):
        from torch.nn import functional as F
        high, low = x
        if self.upsample == "bilinear":
            from_low = F.interpolate(self.lh(low), scale_factor=2, mode="bilinear",
                                     align_corners=False)
        else:
            from_low = F.interpolate(self.lh(low), scale_factor=2, mode="nearest")
        y_high = self.hh(high) + from_low[:, :, :high.shape[2], :high.shape[3]]
        pooled = F.max_pool2d(high, 2, ceil_mode=True) if self.pool == "max" else \
            effvk_torch._avg_pool(high)
        return y_high, self.hl(pooled) + self.ll(low)


def oct_block(**near_miss):
    """The docstring's oct_ok, or with near_miss NearMissOctConv2d's."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class OctBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.to_high = nn.Conv2d(16, 12, 1)
            self.to_low = nn.Conv2d(16, 4, 1)
            if near_miss:
                self.conv = NearMissOctConv2d(16, 16, 3, 0.25, 0.25, **near_miss)
            else:
                self.conv = effvk_torch.OctConv2d(16, 16, 3, 0.25, 0.25)
            self.bn = effvk_torch.OctBatchNorm2d(16, 0.25)

        def forward(self, x):
            high = self.to_high(x)
            low = effvk_torch._avg_pool(self.to_low(x))
            y_high, y_low = self.bn(self.conv((high, low)))
            y_low = F.interpolate(F.relu(y_low), scale_factor=2, mode="nearest")
            return torch.cat([F.relu(y_high), y_low], 1)
    return OctBlock()


def ops_net(pad):
    """The docstring's ops (pad False) or ops_pad (True)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class OpsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(5, 8, (3, 5), padding=(1, 2))
            self.bn = nn.BatchNorm2d(8)
            self.avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
            self.max = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
            self.avg_conv = nn.Conv2d(8, 5, 1)
            if pad:
                self.max_conv = nn.Sequential(nn.ZeroPad2d((0, 1, 1, 0)), nn.Conv2d(8, 7, 2))
            else:
                self.max_conv = nn.Conv2d(8, 7, 3, padding=1)
            self.scale = nn.Parameter(torch.linspace(-1.5, 1.5, 12).view(1, 12, 1, 1),
                                      requires_grad=False)
            self.fc = nn.Linear(12, 12)

        def forward(self, x):
            h = F.hardswish(self.bn(self.conv(x)))                   # 8x13x11
            a = F.relu6(self.avg_conv(self.avg(h)))                  # 5x7x6
            m = F.hardsigmoid(self.max_conv(self.max(h)))            # 7x7x6
            u = F.interpolate(torch.cat([a, m], 1), scale_factor=2, mode="nearest")
            u = u + torch.sigmoid(u) * self.scale                    # 12x14x12
            gate = self.fc(torch.flatten(u.mean((2, 3), keepdim=True), 1))  # [N, 12]
            return u * gate.view(-1, 12, 1, 1)
    return OpsNet()


# case -> (constructor, input shape)
NEARMISS = {
    "se_ok": (lambda: mbconv_block(None), (2, 12, 15, 15)),
    "se_relu": (lambda: mbconv_block(__import__("torch").nn.ReLU), (2, 12, 15, 15)),
    "hetconv_ok": (lambda: hetconv_block(False), (2, 16, 9, 11)),
    "hetconv_stray": (lambda: hetconv_block(True), (2, 16, 9, 11)),
    "oct_ok": (oct_block, (2, 16, 10, 14)),
    "oct_stray": (lambda: oct_block(upsample="bilinear"), (2, 16, 10, 14)),
    "oct_kernel": (lambda: oct_block(lh_kernel=1), (2, 16, 10, 14)),
    "oct_maxpool": (lambda: oct_block(pool="max"), (2, 16, 10, 14)),
    "ops": (lambda: ops_net(False), (2, 5, 13, 11)),
    "ops_pad": (lambda: ops_net(True), (2, 5, 13, 11)),
}


def nearmiss(directory):
    import torch
    failed = 0
    for case, (constructor, shape) in NEARMISS.items():
        # The same seed for each: a near miss gets its _ok case's weights.
        torch.manual_seed(7)
        generator = torch.Generator().manual_seed(7)
        model = constructor().eval()
        print(f"{case}:")
        adjust = stray_tap if getattr(model, "hetconv_stray", False) else None
        result = random_case(model, shape, generator, NEARMISS_GAIN, adjust)
        if result is None:
            failed = 1
            continue
        save(model, *result, os.path.join(directory, case))
    return failed


# ---- comparisons -----------------------------------------------------------

def top5_agree(expected, got, tol):
    """The docstring's top-5 rule for one image; prints both rankings."""
    e = np.argsort(-expected, kind="stable")[:5]
    g = np.argsort(-got, kind="stable")[:5]
    ok = all(a == b or abs(expected[a] - expected[b]) <= tol for a, b in zip(g, e))
    print(f"  top 5 PyTorch {list(map(int, e))}, effvk {list(map(int, g))}: "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def compare(directory):
    if compare_error(directory):
        return 1
    expected = np.load(os.path.join(directory, "expected.npy")).astype(np.float64)
    got = np.load(os.path.join(directory, "output.npy")).astype(np.float64)
    expected, got = expected.reshape(len(expected), -1), got.reshape(len(got), -1)
    tol = BOUND * float(np.abs(expected).max())
    ok = True
    for image in range(len(expected)):
        ok = top5_agree(expected[image], got[image], tol) and ok
    return 0 if ok else 1


# ---- reading the exported graph (protobuf wire format, onnx.proto) ----------

def _fields(data):
    """(field number, wire type, value) of a protobuf message's bytes."""
    pos, end = 0, len(data)

    def varint():
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
    while pos < end:
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, data[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length = varint()
            yield number, wire, data[pos:pos + length]
            pos += length
        elif wire == 5:
            yield number, wire, data[pos:pos + 4]
            pos += 4
        else:
            raise ValueError(f"protobuf wire type {wire}")


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _ints(wire, value):
    """A repeated int64 field's values: one varint, or a packed run."""
    if wire == 0:
        return [_signed(value)]
    pos, out = 0, []
    while pos < len(value):
        v, shift = 0, 0
        while True:
            byte = value[pos]
            pos += 1
            v |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        out.append(_signed(v))
    return out


_TENSOR_TYPES = {1: "<f4", 6: "<i4", 7: "<i8", 9: "?", 11: "<f8"}


def _tensor(data):
    """A TensorProto: (dims, numpy dtype or type number, values if small)."""
    dims, dtype, raw, floats, int64s = [], None, None, [], []
    for number, wire, value in _fields(data):
        if number == 1:
            dims += _ints(wire, value)
        elif number == 2:
            dtype = value
        elif number == 9:
            raw = value
        elif number == 4:
            floats += list(np.frombuffer(value, "<f4")) if wire == 2 else \
                [float(np.frombuffer(value, "<f4")[0])]
        elif number == 7:
            int64s += _ints(wire, value)
    values = None
    count = int(np.prod(dims)) if dims else 1
    if count <= 8:
        if raw is not None and dtype in _TENSOR_TYPES:
            values = np.frombuffer(raw, _TENSOR_TYPES[dtype]).tolist()
        elif floats or int64s:
            values = [float(v) for v in floats] or int64s
    return dims, _TENSOR_TYPES.get(dtype, dtype), values


def _attribute(data):
    name, value = None, None
    for number, wire, v in _fields(data):
        if number == 1:
            name = v.decode()
        elif number == 2:
            value = round(float(np.frombuffer(v, "<f4")[0]), 6)
        elif number == 3:
            value = _signed(v)
        elif number == 4:
            value = v.decode(errors="replace")
        elif number == 5:
            value = _tensor(v)
        elif number == 7:
            floats = list(np.frombuffer(v, "<f4")) if wire == 2 else \
                [float(np.frombuffer(v, "<f4")[0])]
            value = (value or []) + [round(float(f), 6) for f in floats]
        elif number == 8:
            value = (value or []) + _ints(wire, v)
    return name, value


def graph_of(path):
    """The file's opset imports and its graph's nodes, in order: each
    (op_type, domain, inputs, outputs, {attribute: value}), and its
    initializers {name: dims}."""
    with open(path, "rb") as f:
        model = f.read()
    opsets, nodes, initializers = [], [], {}
    for number, _, value in _fields(model):
        if number == 8:
            opset = dict((n, v) for n, _, v in _fields(value))
            opsets.append((opset.get(1, b"").decode(), opset.get(2)))
        if number != 7:
            continue
        for g_number, _, g_value in _fields(value):
            if g_number == 5:
                dims, dtype, _ = _tensor(g_value)
                name = next(v for n, _, v in _fields(g_value) if n == 8).decode()
                initializers[name] = dims
            if g_number != 1:
                continue
            op, domain, inputs, outputs, attributes = None, "", [], [], {}
            for n, _, v in _fields(g_value):
                if n == 1:
                    inputs.append(v.decode())
                elif n == 2:
                    outputs.append(v.decode())
                elif n == 4:
                    op = v.decode()
                elif n == 7:
                    domain = v.decode()
                elif n == 5:
                    key, val = _attribute(v)
                    attributes[key] = val
            nodes.append((op, domain, inputs, outputs, attributes))
    return opsets, nodes, initializers


def count_ops(path):
    """{op type: count} of the file's graph, in order of first use."""
    counts = {}
    for op, domain, *_ in graph_of(path)[1]:
        key = f"{domain}:{op}" if domain else op
        counts[key] = counts.get(key, 0) + 1
    return counts


def print_ops(path):
    opsets, nodes, initializers = graph_of(path)
    print(f"opsets {opsets}, {len(nodes)} nodes, {len(initializers)} initializers")
    for op, domain, inputs, outputs, attributes in nodes:
        shapes = [f"{i}{initializers[i]}" if i in initializers else i for i in inputs]
        print(f"{op}({', '.join(shapes)}) -> {', '.join(outputs)} {attributes or ''}")
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "make":
        return make(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "compare":
        return compare(argv[1])
    if len(argv) == 2 and argv[0] == "compare_any":
        return compare_error(argv[1])
    if len(argv) == 2 and argv[0] == "nearmiss":
        return nearmiss(argv[1])
    if len(argv) == 2 and argv[0] == "ops":
        return print_ops(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
