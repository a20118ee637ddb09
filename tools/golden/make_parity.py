#!/usr/bin/python3
"""Generate the PyTorch parity fixtures used by tests/Runtime.Tests (Reference/RefLayerTests.cs).

Run from the repository root with Debian's PyTorch (1.13, CPU):

    /usr/bin/python3 tools/golden/make_parity.py                 # everything
    /usr/bin/python3 tools/golden/make_parity.py --train-only    # only the train()-mode models (batch norm)

Writes
    tests/Runtime.Tests/Fixtures/parity/layers/<case>.safetensors   one layer, forward + backward
    tests/Runtime.Tests/Fixtures/parity/models/<name>.safetensors   one nn.Sequential, forward + backward
    tests/Runtime.Tests/Fixtures/parity/models/<name>.weights.safetensors   its state_dict only

Numerics: parameters come from PyTorch's default (float32) initialization under a fixed seed and inputs /
upstream gradients are drawn as float32, so every stored input is exact. The forward and backward passes are
then computed in float64 (module.double(), autograd of sum(y * grad_output)), and the results are rounded to
float32 for storage. Every tensor is stored as F32. So a float64 reference fed the stored inputs must agree
with the stored outputs to float32 rounding (~6e-8 relative); float32 code sees its own rounding on top.

The safetensors files are written by hand (struct + json); no safetensors package is needed.
"""

import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "Runtime.Tests", "Fixtures", "parity")


# ----------------------------------------------------------------------------------------------------------------
# safetensors writer
# ----------------------------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, tensor) in file order; every tensor is written as little-endian F32."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors:
        if name in header:
            raise ValueError("duplicate key " + name)
        if t.dtype == torch.int64:  # batch norm's num_batches_tracked, as torch.save / safetensors store it
            b = t.detach().contiguous().cpu().numpy().astype("<i8").tobytes()
            dtype = "I64"
        else:
            b = t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()
            dtype = "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # safetensors pads the header with spaces to 8-byte alignment
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def hw(v):
    a, b = pair(v)
    return "%d,%d" % (a, b)


# ----------------------------------------------------------------------------------------------------------------
# per-layer fixtures
# ----------------------------------------------------------------------------------------------------------------

def layer_case(name, seed, make_module, x, meta, check=None):
    """make_module(): builds the float32 module (default init) after torch.manual_seed(seed).
    x: float32 input (drawn after the module, under the same seed) or a callable returning it."""
    torch.manual_seed(seed)
    m = make_module()
    if callable(x):
        x = x()
    x = x.to(torch.float32)
    params = [(k, v.detach().clone()) for k, v in m.state_dict().items()]
    m64 = m.double()
    x64 = x.double().clone().requires_grad_(True)
    y = m64(x64)
    g = torch.randn(y.shape, dtype=torch.float32)
    (y * g.double()).sum().backward()
    tensors = [("x", x)] + params + [("y", y), ("grad_output", g), ("grad_input", x64.grad)]
    for k, p in m64.named_parameters():
        tensors.append(("grad_" + k, p.grad))
    md = {"seed": seed, "compute_dtype": "float64", "storage_dtype": "F32", "torch": torch.__version__}
    md.update(meta)
    if check is not None:
        check(x, y)
    write_safetensors(os.path.join(OUT, "layers", name + ".safetensors"), tensors, md)
    return name


def conv_meta(cin, cout, k, stride=1, padding=0, dilation=1, groups=1, bias=True):
    return {"kind": "conv2d", "in_channels": cin, "out_channels": cout, "kernel": hw(k), "stride": hw(stride),
            "padding": hw(padding), "dilation": hw(dilation), "groups": groups, "bias": str(bias).lower()}


def conv_case(name, seed, xshape, cin, cout, k, **kw):
    return layer_case(name, seed, lambda: nn.Conv2d(cin, cout, k, **kw), lambda: torch.randn(xshape),
                      conv_meta(cin, cout, k, **kw))


def maxpool_meta(k, stride=None, padding=0, dilation=1):
    return {"kind": "maxpool2d", "kernel": hw(k), "stride": hw(k if stride is None else stride),
            "padding": hw(padding), "dilation": hw(dilation)}


def avgpool_meta(k, stride=None, padding=0):
    return {"kind": "avgpool2d", "kernel": hw(k), "stride": hw(k if stride is None else stride),
            "padding": hw(padding), "count_include_pad": "true"}


def has_ties(x, k, stride, padding, dilation):
    """True when some max-pool window holds its maximum more than once."""
    kh, kw = pair(k)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    dh, dw = pair(dilation)
    xp = F.pad(x.double(), (pw, pw, ph, ph), value=float("-inf"))
    u = F.unfold(xp, (kh, kw), dilation=(dh, dw), stride=(sh, sw))  # [N, C*kh*kw, L]
    u = u.reshape(x.shape[0], x.shape[1], kh * kw, -1)
    mx = u.max(dim=2, keepdim=True).values
    return bool(((u == mx).sum(dim=2) > 1).any())


def activation_input(seed):
    """[2, 9] with ordinary values, exact zeros (kink semantics) and large magnitudes (stability)."""
    torch.manual_seed(seed)
    x = torch.randn(2, 9)
    x[0, 0] = 0.0
    x[0, 1] = 80.0
    x[0, 2] = -80.0
    x[1, 0] = 1000.0
    x[1, 1] = 999.5
    x[1, 2] = -1000.0
    x[1, 3] = 0.0
    x[1, 4] = 30.0
    return x


def make_layers():
    names = []
    # Conv2d
    names.append(conv_case("conv2d_plain", 101, (2, 3, 8, 7), 3, 5, 3))
    names.append(conv_case("conv2d_stride2", 102, (2, 3, 9, 8), 3, 4, 3, stride=2))
    names.append(conv_case("conv2d_pad1", 103, (2, 3, 6, 7), 3, 4, 3, padding=1))
    names.append(conv_case("conv2d_dilation2", 104, (2, 3, 9, 10), 3, 4, 3, dilation=2))
    names.append(conv_case("conv2d_groups2", 105, (2, 4, 7, 6), 4, 6, 3, groups=2))
    names.append(conv_case("conv2d_depthwise", 106, (2, 4, 7, 6), 4, 4, 3, groups=4, padding=1))
    names.append(conv_case("conv2d_rect", 107, (2, 3, 9, 6), 3, 4, (3, 1), stride=(2, 1), padding=(1, 0)))
    names.append(conv_case("conv2d_nobias", 108, (2, 3, 7, 7), 3, 4, 3, bias=False))
    names.append(conv_case("conv2d_1x1out", 109, (2, 3, 5, 4), 3, 6, (5, 4)))
    names.append(conv_case("conv2d_pointwise", 110, (2, 5, 4, 3), 5, 3, 1))
    names.append(conv_case("conv2d_mixed", 111, (2, 4, 11, 10), 4, 6, (2, 3), stride=(2, 3), padding=(2, 1),
                           dilation=(2, 1), groups=2))
    # MaxPool2d
    def maxpool(name, seed, xshape, k, stride=None, padding=0, dilation=1, ties=False):
        def mk_x():
            if ties:
                return torch.randint(0, 3, xshape).to(torch.float32)
            return torch.randn(xshape)

        def check(x, y):
            t = has_ties(x, k, k if stride is None else stride, padding, dilation)
            if t != ties:
                raise RuntimeError("%s: ties=%s expected %s" % (name, t, ties))

        kw = {} if stride is None else {"stride": stride}
        return layer_case(name, seed, lambda: nn.MaxPool2d(k, padding=padding, dilation=dilation, **kw), mk_x,
                          dict(maxpool_meta(k, stride, padding, dilation), ties=str(ties).lower()), check)

    names.append(maxpool("maxpool2d_k2", 201, (2, 3, 9, 8), 2))
    names.append(maxpool("maxpool2d_k3s2p1", 202, (2, 3, 9, 8), 3, 2, 1))
    names.append(maxpool("maxpool2d_k2s2p1", 203, (2, 3, 8, 7), 2, 2, 1))
    names.append(maxpool("maxpool2d_dilation2", 204, (2, 3, 9, 8), 3, 1, 0, 2))
    names.append(maxpool("maxpool2d_rect", 205, (2, 3, 9, 8), (3, 2), (2, 1), (1, 0)))
    names.append(maxpool("maxpool2d_ties", 206, (2, 3, 6, 6), 2, ties=True))
    names.append(maxpool("maxpool2d_ties_overlap", 207, (2, 2, 6, 5), 3, 1, 1, ties=True))
    # AvgPool2d (count_include_pad=True, PyTorch's default)
    def avgpool(name, seed, xshape, k, stride=None, padding=0):
        kw = {} if stride is None else {"stride": stride}
        return layer_case(name, seed, lambda: nn.AvgPool2d(k, padding=padding, count_include_pad=True, **kw),
                          lambda: torch.randn(xshape), avgpool_meta(k, stride, padding))

    names.append(avgpool("avgpool2d_k2", 301, (2, 3, 9, 8), 2))
    names.append(avgpool("avgpool2d_k3s2p1", 302, (2, 3, 9, 8), 3, 2, 1))
    names.append(avgpool("avgpool2d_rect", 303, (2, 3, 7, 8), (3, 2), (1, 2), (1, 1)))
    # Linear
    names.append(layer_case("linear_bias", 401, lambda: nn.Linear(7, 5), lambda: torch.randn(2, 7),
                            {"kind": "linear", "in_features": 7, "out_features": 5, "bias": "true"}))
    names.append(layer_case("linear_nobias", 402, lambda: nn.Linear(7, 5, bias=False), lambda: torch.randn(2, 7),
                            {"kind": "linear", "in_features": 7, "out_features": 5, "bias": "false"}))
    # Activations on [N, F]
    acts = [
        ("relu", lambda: nn.ReLU(), {}),
        ("leakyrelu", lambda: nn.LeakyReLU(0.2), {"negative_slope": "0.2"}),
        ("elu", lambda: nn.ELU(alpha=0.7), {"alpha": "0.7"}),
        ("sigmoid", lambda: nn.Sigmoid(), {}),
        ("tanh", lambda: nn.Tanh(), {}),
        ("softmax", lambda: nn.Softmax(dim=1), {"dim": "1"}),
        ("logsoftmax", lambda: nn.LogSoftmax(dim=1), {"dim": "1"}),
    ]
    for i, (kind, mk, extra) in enumerate(acts):
        seed = 501 + i
        names.append(layer_case(kind, seed, mk, lambda s=seed: activation_input(s), dict({"kind": kind}, **extra)))
    return names


# ----------------------------------------------------------------------------------------------------------------
# model fixtures: one spec list drives both the torch module and the C# attribute list
# ----------------------------------------------------------------------------------------------------------------

def _hw_named(prefix, v, default):
    """C# named arguments for a (height, width) option: 'Stride = 2' or 'StrideHeight = 2, StrideWidth = 1'."""
    a, b = pair(v)
    if a == b:
        return [] if a == default else ["%s = %d" % (prefix, a)]
    return ["%sHeight = %d" % (prefix, a), "%sWidth = %d" % (prefix, b)]


def _kernel_args(k):
    kh, kw = pair(k)
    if kh == kw:
        return ["%d" % kh], []
    return ["%d" % kh], ["KernelHeight = %d" % kh, "KernelWidth = %d" % kw]


def to_attribute(spec):
    kind, o = spec
    if kind == "conv2d":
        pos, named = _kernel_args(o["k"])
        named += _hw_named("Stride", o.get("stride", 1), 1)
        named += _hw_named("Padding", o.get("padding", 0), 0)
        named += _hw_named("Dilation", o.get("dilation", 1), 1)
        if o.get("groups", 1) != 1:
            named.append("Groups = %d" % o["groups"])
        if not o.get("bias", True):
            named.append("Bias = false")
        return "[Conv2d(%s)]" % ", ".join(["%d" % o["cin"], "%d" % o["cout"]] + pos + named)
    if kind in ("maxpool2d", "avgpool2d"):
        pos, named = _kernel_args(o["k"])
        # the stride is written when the spec gives one (even if it equals the default, the kernel size)
        s = pair(o.get("stride", o["k"]))
        if "stride" in o:
            named += ["Stride = %d" % s[0]] if s[0] == s[1] else ["StrideHeight = %d" % s[0], "StrideWidth = %d" % s[1]]
        named += _hw_named("Padding", o.get("padding", 0), 0)
        if kind == "maxpool2d":
            named += _hw_named("Dilation", o.get("dilation", 1), 1)
        name = "MaxPool2d" if kind == "maxpool2d" else "AvgPool2d"
        return "[%s(%s)]" % (name, ", ".join(pos + named))
    if kind == "linear":
        args = ["%d" % o["fin"], "%d" % o["fout"]] + ([] if o.get("bias", True) else ["Bias = false"])
        return "[Linear(%s)]" % ", ".join(args)
    simple = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
              "logsoftmax": "LogSoftmax", "flatten": "Flatten"}
    if kind in simple:
        return "[%s]" % simple[kind]
    if kind == "leakyrelu":
        return "[LeakyReLU(%r)]" % o["slope"]
    if kind == "elu":
        return "[ELU]" if o.get("alpha", 1.0) == 1.0 else "[ELU(%r)]" % o["alpha"]
    if kind == "dropout":
        return "[Dropout(%r)]" % o["p"]
    if kind == "dropout2d":
        return "[Dropout2d(%r)]" % o["p"]
    if kind == "batchnorm2d":
        named = []
        if o.get("eps", 1e-5) != 1e-5:
            named.append("Eps = %r" % o["eps"])
        if o.get("momentum", 0.1) != 0.1:
            named.append("Momentum = %r" % o["momentum"])
        if not o.get("affine", True):
            named.append("Affine = false")
        return "[BatchNorm2d(%s)]" % ", ".join(["%d" % o["c"]] + named)
    if kind == "adaptiveavgpool2d":
        return "[AdaptiveAvgPool2d(%d)]" % o["size"]
    simple6 = {"relu6": "ReLU6", "silu": "SiLU", "identity": "Identity"}
    if kind in simple6:
        return "[%s]" % simple6[kind]
    raise ValueError(kind)


def to_module(spec):
    kind, o = spec
    if kind == "conv2d":
        return nn.Conv2d(o["cin"], o["cout"], o["k"], stride=o.get("stride", 1), padding=o.get("padding", 0),
                         dilation=o.get("dilation", 1), groups=o.get("groups", 1), bias=o.get("bias", True))
    if kind == "maxpool2d":
        return nn.MaxPool2d(o["k"], stride=o.get("stride", None), padding=o.get("padding", 0),
                            dilation=o.get("dilation", 1))
    if kind == "avgpool2d":
        return nn.AvgPool2d(o["k"], stride=o.get("stride", None), padding=o.get("padding", 0), count_include_pad=True)
    if kind == "linear":
        return nn.Linear(o["fin"], o["fout"], bias=o.get("bias", True))
    if kind == "batchnorm2d":
        return nn.BatchNorm2d(o["c"], eps=o.get("eps", 1e-5), momentum=o.get("momentum", 0.1), affine=o.get("affine", True))
    if kind == "adaptiveavgpool2d":
        return nn.AdaptiveAvgPool2d(o["size"])
    if kind in ("relu6", "silu", "identity"):
        return {"relu6": nn.ReLU6, "silu": nn.SiLU, "identity": nn.Identity}[kind]()
    return {"relu": lambda: nn.ReLU(), "sigmoid": lambda: nn.Sigmoid(), "tanh": lambda: nn.Tanh(),
            "softmax": lambda: nn.Softmax(dim=1), "logsoftmax": lambda: nn.LogSoftmax(dim=1),
            "flatten": lambda: nn.Flatten(), "leakyrelu": lambda: nn.LeakyReLU(o["slope"]),
            "elu": lambda: nn.ELU(alpha=o.get("alpha", 1.0)), "dropout": lambda: nn.Dropout(o["p"]),
            "dropout2d": lambda: nn.Dropout2d(o["p"])}[kind]()


def C(cin, cout, k, **kw):
    return ("conv2d", dict(cin=cin, cout=cout, k=k, **kw))


def MP(k, **kw):
    return ("maxpool2d", dict(k=k, **kw))


def AP(k, **kw):
    return ("avgpool2d", dict(k=k, **kw))


def L(fin, fout, **kw):
    return ("linear", dict(fin=fin, fout=fout, **kw))


def A(kind, **kw):
    return (kind, kw)


MODELS = {
    # DESIGN.md's MnistCnn
    "model_a": ((1, 28, 28), 1001, [
        C(1, 16, 3), A("relu"), MP(2, stride=2, padding=1),
        C(16, 32, 3), A("relu"), MP(2, stride=2, padding=1),
        A("flatten"), L(7 * 7 * 32, 32), A("relu"), A("dropout", p=0.3), L(32, 10)]),
    # Keras "simple CNN" tutorial
    "model_b": ((1, 28, 28), 1002, [
        C(1, 32, 3), A("relu"), MP(2),
        C(32, 64, 3), A("relu"), MP(2),
        C(64, 64, 3), A("relu"),
        A("flatten"), L(576, 64), A("relu"), L(64, 10), A("softmax")]),
    # PyTorch MNIST / Fashion tutorial (conv -> pool -> relu, Dropout2d)
    "model_c": ((1, 28, 28), 1003, [
        C(1, 10, 5), MP(2), A("relu"),
        C(10, 20, 5), A("dropout2d", p=0.5), MP(2), A("relu"),
        A("flatten"), L(320, 50), A("relu"), A("dropout", p=0.5), L(50, 10)]),
    # small odd-sized input: dilation, depthwise, groups, rectangular kernel/stride/padding, bias=False, AvgPool2d
    "model_d": ((3, 17, 13), 1004, [
        C(3, 8, 3, padding=1, dilation=2), A("leakyrelu", slope=0.2),
        C(8, 8, 3, stride=2, padding=1, groups=8, bias=False), A("elu", alpha=0.7),
        C(8, 12, (3, 1), stride=(2, 1), padding=(1, 0), groups=2), A("tanh"),
        AP(3, stride=2, padding=1),
        A("flatten"), L(72, 20, bias=False), A("sigmoid"), L(20, 7), A("logsoftmax")]),
    # pooling variety: max-pool dilation, rectangular windows, k3 s2 p1, AvgPool2d(2), 1x1 conv output
    "model_e": ((2, 32, 30), 1005, [
        C(2, 6, 3, stride=2), A("relu"),
        MP(3, stride=1, dilation=2),
        C(6, 8, 3, padding=1), A("elu"),
        MP((3, 2), stride=(2, 1), padding=(1, 0)),
        AP(2),
        C(8, 12, 3, padding=1), A("relu"),
        MP(3, stride=2, padding=1),
        C(12, 16, 2), A("leakyrelu", slope=0.01),
        A("flatten"), L(16, 10), A("softmax")]),
}


# Training-mode fixtures (batch norm: batch statistics, running statistics updated by the forward pass).
TRAIN_MODELS = {
    # issue 6 leaf layers: BatchNorm2d (affine, custom eps/momentum, affine=False), ReLU6, SiLU, Identity,
    # depthwise convolutions (dilated stride 1 and stride 2), a pointwise conv and AdaptiveAvgPool2d(1)
    "model_f": ((3, 10, 9), 1006, [
        C(3, 8, 3, padding=1, bias=False), A("batchnorm2d", c=8), A("relu6"),
        C(8, 8, 3, padding=2, dilation=2, groups=8), A("silu"),
        C(8, 8, 3, stride=2, padding=1, groups=8, bias=False), A("batchnorm2d", c=8, eps=1e-3, momentum=0.2),
        A("silu"),
        C(8, 12, 1), A("batchnorm2d", c=12, affine=False), A("identity"),
        A("adaptiveavgpool2d", size=1), A("flatten"), L(12, 5)]),
}


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, restated (Debian has no torchvision): same submodule names and order,
    out = relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), identity = downsample(x) when given."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation, restated: scale = sigmoid(fc2(relu(fc1(avgpool(x))))); return scale * x."""

    def __init__(self, input_channels, squeeze_channels):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class SmallResNet(nn.Module):
    """model_g: a CIFAR-style ResNet stem, one identity BasicBlock, one downsampling BasicBlock (1x1 conv + bn
    projection, stride 2), squeeze-excitation, global average pooling and a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False),
                                                                          nn.BatchNorm2d(16))))
        self.se = SqueezeExcitation(16, 4)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.se(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


SMALL_RESNET_DECLARATION = """[Block(ModuleName = "BasicBlock")] [Conv2d(8, 8, 3, Padding = 1, Bias = false, Name = "conv1")] [BatchNorm2d(8, Name = "bn1")] [ReLU(Name = "relu")] [Conv2d(8, 8, 3, Padding = 1, Bias = false, Name = "conv2")] [BatchNorm2d(8, Name = "bn2")] class BlockG8
[Block(ModuleName = "BasicBlock")] [Conv2d(8, 16, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")] [BatchNorm2d(16, Name = "bn1")] [ReLU(Name = "relu")] [Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv2")] [BatchNorm2d(16, Name = "bn2")] class BlockG16
[Block] [Conv2d(8, 16, 1, Stride = 2, Bias = false)] [BatchNorm2d(16)] class DownG16
[Model] [Input(3, 16, 16)] [Conv2d(3, 8, 3, Padding = 1, Bias = false, Name = "conv1")] [BatchNorm2d(8, Name = "bn1")] [ReLU(Name = "relu")] [Residual(typeof(BlockG8), ReLU = true, Name = "layer1.0")] [Residual(typeof(BlockG16), Shortcut = typeof(DownG16), ReLU = true, Name = "layer2.0")] [SqueezeExcitation(16, 4, Name = "se")] [AdaptiveAvgPool2d(1, Name = "avgpool")] [Flatten] [Linear(16, 5, Name = "fc")] class ModelG"""


class MBConv(nn.Module):
    """EfficientNet's MBConv: 1x1 expansion (conv, bn, SiLU) -> depthwise 3x3 (conv, bn, SiLU) -> squeeze-excitation
    -> 1x1 projection (conv, bn); + x when the stride is 1 and the channels stay (no activation after the add)."""

    def __init__(self, cin, cout, expand, stride):
        super().__init__()
        ce = cin * expand
        self.expand = nn.Sequential(nn.Conv2d(cin, ce, 1, bias=False), nn.BatchNorm2d(ce), nn.SiLU())
        self.depthwise = nn.Sequential(nn.Conv2d(ce, ce, 3, stride=stride, padding=1, groups=ce, bias=False),
                                       nn.BatchNorm2d(ce), nn.SiLU())
        self.se = SqueezeExcitation(ce, ce // 4)
        self.project = nn.Sequential(nn.Conv2d(ce, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.project(self.se(self.depthwise(self.expand(x))))
        return out + x if self.residual else out


class SmallMBConvNet(nn.Module):
    """model_h: a stem, a residual MBConv (16 -> 16, expansion 4) and a downsampling one (16 -> 24, stride 2), global
    average pooling and a classifier: squeeze-excitation nested inside a residual branch, depthwise convolutions."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.SiLU())
        self.blocks = nn.Sequential(MBConv(16, 16, 4, 1), MBConv(16, 24, 4, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.blocks(self.stem(x))), 1))


class ResNeXtBottleneck(nn.Module):
    """torchvision's Bottleneck with groups (ResNeXt): 1x1 conv -> bn -> relu -> grouped 3x3 conv -> bn -> relu ->
    1x1 conv -> bn, + identity or downsample(x), relu."""

    def __init__(self, cin, width, cout, groups, stride, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class SmallResNeXt(nn.Module):
    """model_i: stem, a downsampling ResNeXt bottleneck (16 -> 32, cardinality 4, width 16, 1x1 projection) and an
    identity one (32 -> 32), global average pooling, classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(
            ResNeXtBottleneck(16, 16, 32, 4, 2, nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))),
            ResNeXtBottleneck(32, 16, 32, 4, 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        return self.fc(torch.flatten(self.avgpool(self.layer1(x)), 1))


def make_train_models(batch=4):
    """Like make_models, but the module runs in train() mode: batch norm normalizes with the batch's statistics and
    its forward pass updates running_mean / running_var (unbiased) / num_batches_tracked. Batch norm's affine
    parameters and running statistics are randomized first (PyTorch starts them at 1, 0, 0, 1) so that every
    gradient and the inference path are exercised. Stored: the state before the step (weights file and fixture),
    input, train-mode output, grad_output, grad_input, grad/<param>, after/<buffer> (the buffers after the step)
    and eval_output (eval() mode on the same input, with the updated running statistics)."""
    names = []
    models = [(name, in_shape, seed, lambda specs=specs: nn.Sequential(*[to_module(s) for s in specs]),
               " ".join(["[Input(%d, %d, %d)]" % tuple(in_shape)] + [to_attribute(s) for s in specs]))
              for name, (in_shape, seed, specs) in TRAIN_MODELS.items()]
    models.append(("model_g", (3, 16, 16), 1007, SmallResNet, SMALL_RESNET_DECLARATION))
    models.append(("model_h", (3, 12, 12), 1008, SmallMBConvNet, "see ModelH in tests/Runtime.Tests/Generated/ParityModels.cs"))
    models.append(("model_i", (3, 12, 12), 1009, SmallResNeXt, "see ModelI in tests/Runtime.Tests/Generated/ParityModels.cs"))
    for name, in_shape, seed, build, layers in models:
        torch.manual_seed(seed)
        model = build()
        with torch.no_grad():
            for mod in model.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    if mod.affine:
                        mod.weight.uniform_(0.5, 1.5)
                        mod.bias.uniform_(-0.5, 0.5)
                    mod.running_mean.uniform_(-0.5, 0.5)
                    mod.running_var.uniform_(0.5, 2.0)
                    mod.num_batches_tracked.fill_(3)
        x = torch.randn((batch,) + tuple(in_shape))
        state = [(k, v.detach().clone()) for k, v in model.state_dict().items()]
        m64 = model.double().train()
        x64 = x.double().clone().requires_grad_(True)
        y = m64(x64)
        g = torch.randn(y.shape, dtype=torch.float32)
        (y * g.double()).sum().backward()
        grads = dict(m64.named_parameters())
        after = [(k, v.detach().clone()) for k, v in m64.state_dict().items() if k not in grads]
        with torch.no_grad():
            y_eval = m64.eval()(x64.detach())
        md = {"name": name, "seed": seed, "batch": batch, "input_shape": "%d,%d,%d" % tuple(in_shape),
              "layers": layers, "mode": "train", "compute_dtype": "float64", "storage_dtype": "F32 (I64 for num_batches_tracked)",
              "torch": torch.__version__, "parameter_count": sum(p.numel() for p in grads.values())}
        tensors = list(state) + [("input", x), ("output", y), ("grad_output", g), ("grad_input", x64.grad),
                                 ("eval_output", y_eval)]
        tensors += [("grad/" + k, p.grad) for k, p in grads.items()]
        tensors += [("after/" + k, v) for k, v in after]
        write_safetensors(os.path.join(OUT, "models", name + ".safetensors"), tensors, md)
        write_safetensors(os.path.join(OUT, "models", name + ".weights.safetensors"), state, {"format": "pt"})
        print("%s: %s -> %s, %d params | %s" % (name, tuple(x.shape), tuple(y.shape), int(md["parameter_count"]), layers))
        names.append(name)
    return names


def margins(model, x):
    """Distances to non-differentiable points that float32 rounding could cross: the smallest |input| of a
    ReLU/LeakyReLU/ELU and the smallest nonzero gap between the two largest values of a max-pool window.
    (Exact ties, e.g. two zeros after a ReLU, are reproduced exactly by float32 code and are not counted.)"""
    stats = {"min_kink_distance": float("inf"), "kink_inputs_below_1e-4": 0,
             "min_maxpool_gap": float("inf"), "maxpool_gaps_below_1e-4": 0, "maxpool_exact_ties": 0}
    h = x
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.ELU)):
                a = h.abs()
                stats["min_kink_distance"] = min(stats["min_kink_distance"], float(a.min()))
                stats["kink_inputs_below_1e-4"] += int((a < 1e-4).sum())
            if isinstance(m, nn.MaxPool2d):
                kh, kw = pair(m.kernel_size)
                ph, pw = pair(m.padding)
                xp = F.pad(h, (pw, pw, ph, ph), value=float("-inf"))
                u = F.unfold(xp, (kh, kw), dilation=pair(m.dilation), stride=pair(m.stride))
                u = u.reshape(h.shape[0], h.shape[1], kh * kw, -1)
                top = u.topk(2, dim=2).values
                gap = top[:, :, 0, :] - top[:, :, 1, :]
                stats["maxpool_exact_ties"] += int((gap == 0).sum())
                gap = gap[gap > 0]
                stats["min_maxpool_gap"] = min(stats["min_maxpool_gap"], float(gap.min()))
                stats["maxpool_gaps_below_1e-4"] += int((gap < 1e-4).sum())
            h = m(h)
    return {k: ("%.3g" % v if isinstance(v, float) else str(v)) for k, v in stats.items()}


def make_models(batch=4):
    names = []
    for name, (in_shape, seed, specs) in MODELS.items():
        torch.manual_seed(seed)
        model = nn.Sequential(*[to_module(s) for s in specs])  # torch's default init, float32
        x = torch.randn((batch,) + tuple(in_shape))
        state = [(k, v.detach().clone()) for k, v in model.state_dict().items()]
        m64 = model.double().eval()
        x64 = x.double().clone().requires_grad_(True)
        y = m64(x64)
        g = torch.randn(y.shape, dtype=torch.float32)
        (y * g.double()).sum().backward()
        grads = dict(m64.named_parameters())
        layers = " ".join(["[Input(%d, %d, %d)]" % tuple(in_shape)] + [to_attribute(s) for s in specs])
        md = {"name": name, "seed": seed, "batch": batch, "input_shape": "%d,%d,%d" % tuple(in_shape),
              "layers": layers, "mode": "eval", "compute_dtype": "float64", "storage_dtype": "F32",
              "torch": torch.__version__, "parameter_count": sum(v.numel() for _, v in state)}
        md.update(margins(m64, x64.detach()))
        tensors = list(state) + [("input", x), ("output", y), ("grad_output", g), ("grad_input", x64.grad)]
        tensors += [("grad/" + k, grads[k].grad) for k, _ in state]
        write_safetensors(os.path.join(OUT, "models", name + ".safetensors"), tensors, md)
        write_safetensors(os.path.join(OUT, "models", name + ".weights.safetensors"), state, {"format": "pt"})
        print("%s: %s -> %s, %d params | %s" % (name, tuple(x.shape), tuple(y.shape), int(md["parameter_count"]),
                                               layers))
        names.append(name)
    return names


def main():
    torch.set_num_threads(1)
    if sys.argv[1:] == ["--train-only"]:  # only the training-mode fixtures (model_f, ...)
        make_train_models()
        return 0
    layers = make_layers()
    print("layers (%d): %s" % (len(layers), " ".join(layers)))
    make_models()
    make_train_models()
    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print("total fixture size: %.1f KB" % (total / 1024.0))


if __name__ == "__main__":
    sys.exit(main())
