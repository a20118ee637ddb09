#!/usr/bin/python3
"""ONNX golden fixtures for `cnngen import` (tests/Tool.Tests), made with Debian's torch 1.13 + onnx 1.12.

    /usr/bin/python3 tools/golden/make_onnx_golden.py      # writes tools/golden/onnx/*.onnx (+ .input.bin / .output.bin)

fashion_cnn.onnx: the Fashion-MNIST tutorial model (samples/FashionMnist, 21,840 parameters), torch.manual_seed(0)
init, exported in eval mode (opset 13, weights inline as raw_data; 87 KB, committed). Its input (1x1x28x28, seed 1) and
PyTorch's output are written as little-endian float32 (.input.bin, .output.bin): an ORT-independent reference.
fashion_cnn_bn.onnx: the same with BatchNorm2d after conv1, exported with training=PRESERVE so the BN node stays.
resnet18.graph.onnx: torchvision 0.14 resnet18() exported with training=PRESERVE (BatchNormalization nodes and
torchvision's initializer names kept, opset 13), then every initializer's data STRIPPED (raw_data emptied; names, dims
and types kept): 20 KB instead of 46 MB. The C# test fills the initializers with a seeded formula (ImportTests.Fill) and
uses ONNX Runtime on the filled file as the reference.
resnet18_fused.graph.onnx: the same exported with the default training=EVAL, which fuses each batch norm into the conv
before it (initializers named onnx::Conv_NNN): imports as convolutions with bias. Stripped the same way.
mbconv_se.onnx: a small EfficientNet-style net (MBConvSeNet below: expand 1x1 + BN + SiLU, depthwise 3x3 + BN + SiLU,
torchvision's SqueezeExcitation with SiLU/Sigmoid, project 1x1 + BN, residual add when shapes agree), 3x32x32 input,
seed 0 init with non-trivial BN statistics, PRESERVE, real weights committed (+ .input.bin / .output.bin).

    /usr/bin/python3 tools/golden/make_onnx_golden.py --full-resnet18 DIR   # also writes DIR/resnet18.onnx with
        torchvision's own init (seed 0) and DIR/resnet18.input.bin/.output.bin (not committed: 46 MB)
"""
import sys
import os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")


class FashionCnn(nn.Module):
    def __init__(self, bn=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.bn1 = nn.BatchNorm2d(10) if bn else None
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.conv2_drop = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = self.bn1(x)
        x = F.relu(F.max_pool2d(x, 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        return self.fc2(x)


def export(model, name, training=torch.onnx.TrainingMode.EVAL, shape=(1, 1, 28, 28), out=OUT):
    model.eval()
    torch.manual_seed(1)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(out, name + ".onnx"), opset_version=13, training=training,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    x.numpy().astype("<f4").tofile(os.path.join(out, name + ".input.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(out, name + ".output.bin"))


class MBConv(nn.Module):
    def __init__(self, cin, cout, stride, expand=4):
        super().__init__()
        from torchvision.ops import SqueezeExcitation
        mid = cin * expand
        self.expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
        self.expand_bn = nn.BatchNorm2d(mid)
        self.dw_conv = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False)
        self.dw_bn = nn.BatchNorm2d(mid)
        self.se = SqueezeExcitation(mid, max(1, cin // 4), activation=nn.SiLU)
        self.project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.silu(self.expand_bn(self.expand_conv(x)))
        y = F.silu(self.dw_bn(self.dw_conv(y)))
        y = self.project_bn(self.project_conv(self.se(y)))
        return y + x if self.residual else y


class MBConvSeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem_conv = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.blocks = nn.Sequential(MBConv(16, 16, 1), MBConv(16, 24, 2), MBConv(24, 24, 1))
        self.head_conv = nn.Conv2d(24, 64, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.silu(self.stem_bn(self.stem_conv(x)))
        x = self.blocks(x)
        x = F.silu(self.head_bn(self.head_conv(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def randomize_bn(m):
    with torch.no_grad():
        for bn in m.modules():
            if isinstance(bn, nn.BatchNorm2d):
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)


def strip(path, out):
    import onnx
    m = onnx.load(path)
    for t in m.graph.initializer:
        t.raw_data = b""
        del t.float_data[:]
        del t.int64_data[:]
    onnx.save(m, out)
    os.remove(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export(FashionCnn(), "fashion_cnn")
    torch.manual_seed(0)
    m = FashionCnn(bn=True)
    with torch.no_grad():  # non-trivial running statistics
        m.bn1.running_mean.uniform_(-0.5, 0.5)
        m.bn1.running_var.uniform_(0.5, 2.0)
        m.bn1.weight.uniform_(0.5, 1.5)
        m.bn1.bias.uniform_(-0.2, 0.2)
    export(m, "fashion_cnn_bn", torch.onnx.TrainingMode.PRESERVE)

    import tempfile
    import torchvision
    tmp = tempfile.mkdtemp()
    torch.manual_seed(0)
    r = torchvision.models.resnet18()
    for name, mode in (("resnet18", torch.onnx.TrainingMode.PRESERVE), ("resnet18_fused", torch.onnx.TrainingMode.EVAL)):
        export(r, name, mode, (1, 3, 224, 224), tmp)
        strip(os.path.join(tmp, name + ".onnx"), os.path.join(OUT, name + ".graph.onnx"))
    torch.manual_seed(0)
    m = MBConvSeNet()
    randomize_bn(m)
    export(m, "mbconv_se", torch.onnx.TrainingMode.PRESERVE, (1, 3, 32, 32))


def full_resnet18(out):
    import torchvision
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export(torchvision.models.resnet18(), "resnet18", torch.onnx.TrainingMode.PRESERVE, (1, 3, 224, 224), out)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full-resnet18":
        full_resnet18(sys.argv[2])
    else:
        main()
