#!/usr/bin/env python3
"""Coefficients of the small-argument erf polynomial in src/Runtime/Kernels/ActivationMath.cs.

For |x| < 1 the kernels compute erf(x) = x * P(x^2) with P of degree 6 and P(0) = 2/sqrt(pi). P minimizes the maximum RELATIVE error of
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
    # P0 = 2/sqrt(pi) exactly: the kernels carry it as a float pair (hi + lo). Round P1.. to float32 one at a time,
    # refitting the ones after it to absorb the rounding.
    p0 = 2 / math.sqrt(math.pi)
    p0hi = np.float32(p0)
    p0lo = np.float32(p0 - float(p0hi))
    c = [p0]
    for k in range(1, DEG + 1):
        fixed = a[:, :k] @ np.array(c)
        rest = lawson(a[:, k:], f - fixed, f)
        c.append(float(np.float32(rest[0])))
    c32 = np.array(c)
    g = np.linspace(1e-6, CUT, 200001)
    fg = np.array([math.erf(v) / v for v in g])
    ag = np.vstack([g ** (2 * k) for k in range(DEG + 1)]).T
    print("max relative error, double coefficients:  %.3e" % np.max(np.abs(ag @ coef / fg - 1)))
    print("max relative error, float32 coefficients: %.3e" % np.max(np.abs(ag @ c32 / fg - 1)))
    print("P0Hi = %sf, P0Lo = %sf" % (repr(float(p0hi)), repr(float(p0lo))))
    for k in range(1, DEG + 1):
        print("P%d = %sf" % (k, repr(c32[k])))


if __name__ == "__main__":
    main()
