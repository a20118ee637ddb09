#!/usr/bin/env python3
"""Golden values of the issue-14 activations: torch.nn.GELU(), GELU(approximate='tanh'), Hardswish, Hardsigmoid.

Run with Debian's PyTorch (1.13, CPU):
    /usr/bin/python3 tools/golden/make_activation_golden.py
Writes tests/Runtime.Tests/Fixtures/activations/activations.json:
    {"torch": version, "n": N, "x": [...], "dy": [...],
     "cases": [{"name", "call", "y64", "dx64", "y32", "dx32"}, ...]}
x: N float32 inputs (a grid of [-8, 8], random normals, and the edge values: 0, -0, +-3 and their float32 neighbours,
+-large, +-inf, NaN); dy: N float32 upstream gradients (random normals). For each module, y = module(x) and
dx = x.grad after y.backward(dy), computed twice: from x.double() in float64 (y64, dx64, the accurate values) and in
float32 (y32, dx32, what PyTorch's float kernels give). Every list is stored as float32 decimals (repr of the
float32 value, exact); non-finite values as the strings "NaN", "Infinity", "-Infinity".

N is a multiple of 16 so that every element takes PyTorch's vectorized CPU path: in 1.13 its scalar tail path (the
last numel % 16 floats, % 8 doubles) differs at two points: hardswish'(3) = 1.5 instead of 1, hardswish'(NaN) = dy
instead of NaN. The vectorized semantics are the ones CnnGen implements.
"""
import json
import math
import os

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "Runtime.Tests", "Fixtures", "activations", "activations.json")

MODULES = [
    ("gelu", "torch.nn.GELU()", lambda: torch.nn.GELU()),
    ("gelu_tanh", "torch.nn.GELU(approximate='tanh')", lambda: torch.nn.GELU(approximate="tanh")),
    ("hardswish", "torch.nn.Hardswish()", lambda: torch.nn.Hardswish()),
    ("hardsigmoid", "torch.nn.Hardsigmoid()", lambda: torch.nn.Hardsigmoid()),
]


def f32(v):
    return float(np.float32(v))


def edge_values():
    vals = [0.0, -0.0, 1e-20, -1e-20, 0.5, -0.5, 1.0, -1.0, -0.7518, 1.4142135, -1.4142135]
    for k in (3.0, -3.0):
        vals += [k, float(np.nextafter(np.float32(k), np.float32(100))), float(np.nextafter(np.float32(k), np.float32(-100)))]
    vals += [5.0, -5.0, 6.0, -6.0, 10.0, -10.0, 13.0, -13.0, 20.0, -20.0, 50.0, -50.0, 1e5, -1e5,
             1e19, -1e19, 2e19, -2e19, 1e30, -1e30, math.inf, -math.inf, math.nan]
    return [f32(v) for v in vals]


def encode(t):
    out = []
    for v in t.detach().to(torch.float32).reshape(-1).tolist():
        if math.isnan(v):
            out.append("NaN")
        elif math.isinf(v):
            out.append("Infinity" if v > 0 else "-Infinity")
        else:
            out.append(float(v))
    return out


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(14)
    grid = [f32(v) for v in np.linspace(-8.0, 8.0, 161)]
    values = edge_values() + grid
    normals = torch.randn(256, generator=g).mul(2.0).tolist()
    values += [f32(v) for v in normals]
    values = values[: len(values) - len(values) % 16] if len(values) % 16 else values
    n = len(values)
    assert n % 16 == 0
    x32 = torch.tensor(values, dtype=torch.float32)
    dy32 = torch.randn(n, generator=g).to(torch.float32)

    cases = []
    for name, call, make in MODULES:
        res = {}
        for tag, dtype in (("64", torch.float64), ("32", torch.float32)):
            x = x32.to(dtype).clone().requires_grad_(True)
            y = make()(x)
            y.backward(dy32.to(dtype))
            res["y" + tag] = encode(y)
            res["dx" + tag] = encode(x.grad)
        cases.append(dict(name=name, call=call, **res))

    doc = dict(torch=torch.__version__, n=n, x=encode(x32), dy=encode(dy32), cases=cases)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(OUT, os.path.getsize(OUT), "bytes,", n, "inputs")


if __name__ == "__main__":
    main()
