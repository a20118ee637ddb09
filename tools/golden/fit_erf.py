#!/usr/bin/env python3
"""Coefficients of the small-argument erf polynomial in src/Runtime/Kernels/ActivationMath.cs.

For |x| < 1 the kernels compute erf(x) = x * P(x^2) with P of degree 6. P minimizes the maximum RELATIVE error of
x * P(x^2) against Python's math.erf (the C library's double erf) on [0, 1]: Lawson's iteratively reweighted least
squares on 4000 Chebyshev points. Coefficients are then rounded to float32 one at a time (the later ones refitted to absorb the rounding) and the error
is re-measured on a dense grid.
(For |x| >= 1 the kernels use Numerical Recipes' erfc Chebyshev fit, whose coefficients are published: see the C# file.)

Run with any Python 3 that has numpy:
    /usr/bin/python3 tools/golden/fit_erf.py
Prints the coefficients as C# float literals (round-trip exact) and the max relative error in double arithmetic.
"""
import math

import numpy as np

CUT = 1.0
DEG = 6


def lawson(a, f, scale=None):
    """Coefficients minimizing max |a @ c - f| / scale (Lawson's algorithm: weights grow where the error is large)."""
    scale = f if scale is None else scale
    w = np.ones(len(f))
    for _ in range(60):
        ws = np.sqrt(w) / scale
        coef = np.linalg.lstsq(a * ws[:, None], f * ws, rcond=None)[0]
        err = np.abs(a @ coef - f) / scale
        w = w * err
        w /= w.sum()
    return coef


def main():
    x = 0.5 * CUT * (1 - np.cos(np.linspace(0, np.pi, 4000)))
    x = x[x > 1e-6]
    f = np.array([math.erf(v) / v for v in x])
    a = np.vstack([x ** (2 * k) for k in range(DEG + 1)]).T
    coef = lawson(a, f)
    # Round to float32 one coefficient at a time, refitting the ones after it to absorb the rounding.
    c32 = np.zeros(DEG + 1, dtype=np.float32)
    for k in range(DEG + 1):
        fixed = a[:, :k] @ c32[:k].astype(np.float64)
        rest = lawson(a[:, k:], f - fixed, f)
        c32[k] = np.float32(rest[0])
    g = np.linspace(1e-6, CUT, 200001)
    fg = np.array([math.erf(v) / v for v in g])
    ag = np.vstack([g ** (2 * k) for k in range(DEG + 1)]).T
    print("max relative error, double coefficients:  %.3e" % np.max(np.abs(ag @ coef / fg - 1)))
    print("max relative error, float32 coefficients: %.3e" % np.max(np.abs(ag @ c32.astype(np.float64) / fg - 1)))
    for k, c in enumerate(c32):
        print("P%d = %sf" % (k, repr(float(c))))


if __name__ == "__main__":
    main()
