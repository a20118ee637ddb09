#!/usr/bin/python3
"""Golden values for the functional-style tutorial model (tests/Generator.Tests/FunctionalTests.cs).

The model is the PyTorch tutorial's Net (the MNIST / Fashion-MNIST example): modules conv1, conv2, conv2_drop, fc1, fc2,
with F.max_pool2d, F.relu, F.dropout and F.log_softmax applied in forward. Writes, into tests/Generator.Tests/Golden/:
  functional_tutorial.torchsummary.txt  torchsummary's table, batch 64 (torchsummary 1.5.1's algorithm, vendored in
                                        torchsummary_golden.py: functional calls have no hook, hence no row)
  functional_tutorial.safetensors       net.state_dict() after torch.manual_seed(0), float32 (written by hand: Debian has
                                        no safetensors package; the format is an 8-byte little-endian header length, a JSON
                                        header and the raw little-endian data)
  functional_tutorial.io.txt            3 inputs (torch.manual_seed(1); torch.rand(3, 1, 28, 28)) and net.eval() outputs,
                                        one float per line with repr() precision: 3*784 inputs, then 3*10 outputs
Run: /usr/bin/python3 tools/golden/functional_tutorial.py
"""

import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

from torchsummary_golden import summary


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def save_safetensors(path, tensors):
    header, data, offset = {}, b"", 0
    for key, t in tensors.items():
        raw = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Generator.Tests", "Golden")
    torch.manual_seed(0)
    net = Net()
    with open(os.path.join(out, "functional_tutorial.torchsummary.txt"), "w") as f:
        f.write(summary(net, (1, 28, 28), batch_size=64))
    save_safetensors(os.path.join(out, "functional_tutorial.safetensors"), net.state_dict())
    torch.manual_seed(1)
    x = torch.rand(3, 1, 28, 28)
    net.eval()
    with torch.no_grad():
        y = net(x)
    with open(os.path.join(out, "functional_tutorial.io.txt"), "w") as f:
        for v in x.flatten().tolist() + y.flatten().tolist():
            f.write(repr(v) + "\n")


if __name__ == "__main__":
    main()
