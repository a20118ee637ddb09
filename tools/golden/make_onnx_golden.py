#!/usr/bin/python3
"""ONNX golden fixtures for `cnngen import` (tests/Tool.Tests), made with Debian's torch 1.13 + onnx 1.12.

    /usr/bin/python3 tools/golden/make_onnx_golden.py      # writes tools/golden/onnx/*.onnx (+ .input.bin / .output.bin)

fashion_cnn.onnx: the Fashion-MNIST tutorial model (samples/FashionMnist, 21,840 parameters), torch.manual_seed(0)
init, exported in eval mode (opset 13, weights inline as raw_data; 87 KB, committed). Its input (1x1x28x28, seed 1) and
PyTorch's output are written as little-endian float32 (.input.bin, .output.bin): an ORT-independent reference.
fashion_cnn_bn.onnx: the same with BatchNorm2d after conv1, exported with training=PRESERVE so the BN node stays.
resnet18 and the MBConv/SE net are not made here yet: the importer does not handle branching graphs (residual Add,
SE Mul) yet.
"""
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


def export(model, name, training=torch.onnx.TrainingMode.EVAL):
    model.eval()
    torch.manual_seed(1)
    x = torch.randn(1, 1, 28, 28)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(OUT, name + ".onnx"), opset_version=13, training=training,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    x.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".input.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".output.bin"))


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


if __name__ == "__main__":
    main()
