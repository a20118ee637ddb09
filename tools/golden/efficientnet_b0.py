#!/usr/bin/python3
"""Golden values for samples/EfficientNet (tests/Generator.Tests/EfficientNetTests.cs): torchvision's efficientnet_b0.

Debian's python3-torchvision 0.14.1 (with python3-torch 1.13.1). No 21 MB weights file: every state_dict tensor is filled
by a formula the C# test restates exactly (integer arithmetic, then one float64 product rounded to float32):
  seed  = FNV-1a (32-bit) of the key's ASCII bytes
  state = (state * 1103515245 + 12345) mod 2**31, once per element in row-major order, starting from seed
  u     = state / 2**31 * 2 - 1                                 (in [-1, 1))
  conv / linear weight: u * sqrt(3 / fan_in)                    (variance 1 / fan_in); the classifier's times 20, so the
                        logits are O(1) and a wrong activation shows (SE with ReLU for SiLU moves them by ~1e-2)
  bias (SE fc1/fc2, classifier): 0.1 * u
  batch norm weight 1 + 0.25 * u, bias 0.1 * u, running_mean 0.1 * u, running_var 1.5 + 0.5 * u; num_batches_tracked 0
The input, key "input", shape [2, 3, 224, 224]: u. Model in eval mode (StochasticDepth and Dropout are the identity).
Writes into tests/Generator.Tests/Golden/:
  efficientnet_b0.state_dict.txt  every state_dict entry, "key [shape]" (torchvision's keys and order)
  efficientnet_b0.logits.txt      the 2 x 1000 outputs, one float per line (repr)
Run: /usr/bin/python3 tools/golden/efficientnet_b0.py
"""

import math
import os

import numpy as np
import torch
import torchvision


def fnv1a(text):
    h = 2166136261
    for c in text.encode("ascii"):
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def uniform(key, count):
    state = fnv1a(key)
    out = np.empty(count, dtype=np.float64)
    for i in range(count):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = state / 2147483648.0 * 2.0 - 1.0
    return out


def value(key, shape):
    count = int(np.prod(shape)) if len(shape) else 1
    if key.endswith("num_batches_tracked"):
        return np.zeros(shape, dtype=np.int64)
    u = uniform(key, count)
    if key.endswith("running_mean"):
        v = 0.1 * u
    elif key.endswith("running_var"):
        v = 1.5 + 0.5 * u
    elif len(shape) == 1 and key.endswith(".weight"):  # batch norm's gamma
        v = 1.0 + 0.25 * u
    elif key.endswith(".bias"):
        v = 0.1 * u
    else:
        fan_in = int(np.prod(shape[1:]))
        v = u * math.sqrt(3.0 / fan_in)
        if key == "classifier.1.weight":
            v = v * 20.0
    return v.astype(np.float32).reshape(shape)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Generator.Tests", "Golden")
    model = torchvision.models.efficientnet_b0()
    state = model.state_dict()
    assert sum(p.numel() for p in model.parameters()) == 5288548
    with open(os.path.join(out, "efficientnet_b0.state_dict.txt"), "w") as f:
        for k, v in state.items():
            f.write(f"{k} [{', '.join(str(d) for d in v.shape)}]\n")
    model.load_state_dict({k: torch.from_numpy(value(k, tuple(v.shape))) for k, v in state.items()})
    model.eval()
    x = torch.from_numpy(uniform("input", 2 * 3 * 224 * 224).astype(np.float32).reshape(2, 3, 224, 224))
    with torch.no_grad():
        y = model(x)
    print(f"logits: mean |y| {y.abs().mean().item():.4f}, max |y| {y.abs().max().item():.4f}")
    with open(os.path.join(out, "efficientnet_b0.logits.txt"), "w") as f:
        for v in y.flatten().tolist():
            f.write(repr(v) + "\n")


if __name__ == "__main__":
    main()
