using System;
using System.Collections.Generic;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>MaxPool2d in channels-last (inference): the maximum of whole channel vectors, no shuffles, no gathers.</summary>
    internal sealed partial class ChannelsLast
    {
        /// <summary>Max pooling over whole channel vectors; taps that can fall into the padding are tested per pixel (PyTorch: padding is never selected, NaN propagates).</summary>
        private static void EmitMaxPool(CodeWriter w, ShapedLayer l)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            w.Line($"// {l.SummaryName}, channels-last: x [n, {H}, {W}, {C}] -> y [n, {OH}, {OW}, {C}]; the maximum of whole channel vectors over each window.");
            w.Line(Hot);
            using (w.Block($"private static void {Prefix(l)}(float* x, float* y, int n)"))
            {
                if (C % 16 == 0)
                {
                    using (w.Block($"if ({UseWide})"))
                    {
                        PoolBody(w, l, 16);
                        w.Line("return;");
                    }
                }
                PoolBody(w, l, 8);
            }
            w.Line();
        }

        private static void PoolBody(CodeWriter w, ShapedLayer l, int V)
        {
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            using (w.Block("for (int b = 0; b < n; b++)"))
            {
                w.Line($"float* xb = x + b * {S((long)H * W * C)}, yb = y + b * {S((long)OH * OW * C)};");
                using (w.Block($"for (int oy = 0; oy < {OH}; oy++)")) PoolRow(w, l, V);
            }
        }

        /// <summary>Output row oy of a max pool: input sample at xb (rows of the layer's input), output sample at yb.</summary>
        private static void PoolRow(CodeWriter w, ShapedLayer l, int V)
        {
            var s = l.Spec;
            int H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            // Which taps can leave the input (then tested per row / per column).
            bool RowSafe(int ky) => -s.PadH + ky * s.DilationH >= 0 && (OH - 1) * s.StrideH - s.PadH + ky * s.DilationH < H;
            {
                {
                    w.Line($"int iy = oy * {s.StrideH} - {s.PadH};");
                    for (int ky = 0; ky < s.KernelH; ky++)
                    {
                        if (!RowSafe(ky)) w.Line($"bool r{ky} = (uint)(iy + {ky * s.DilationH}) < {H}u;");
                    }
                    // Columns whose window lies inside the input need no test: the pixels split into up to three loops.
                    int lo = 0, hi = OW;
                    while (lo < OW && lo * s.StrideW - s.PadW < 0) lo++;
                    while (hi > lo && (hi - 1) * s.StrideW - s.PadW + (s.KernelW - 1) * s.DilationW >= W) hi--;
                    if (lo > 0) PoolPixels(w, l, V, "0", S(lo), checkColumns: true, RowSafe);
                    if (hi > lo) PoolPixels(w, l, V, S(lo), S(hi), checkColumns: false, RowSafe);
                    if (hi < OW) PoolPixels(w, l, V, S(Math.Max(lo, hi)), S(OW), checkColumns: true, RowSafe);
                }
            }
        }

        private static void PoolPixels(CodeWriter w, ShapedLayer l, int V, string from, string to, bool checkColumns, Func<int, bool> rowSafe)
        {
            var s = l.Spec;
            int C = l.In.C, W = l.In.W, OW = l.Out.W;
            string Vec = VecType(V);
            using (w.Block($"for (int ox = {from}; ox < {to}; ox++)" + (checkColumns ? " // windows that reach past the left or right edge" : "")))
            {
                w.Line($"int ix = ox * {s.StrideW} - {s.PadW};");
                if (checkColumns)
                {
                    for (int kx = 0; kx < s.KernelW; kx++) w.Line($"bool c{kx} = (uint)(ix + {kx * s.DilationW}) < {W}u;");
                }
                w.Line($"float* xp = xb + (iy * {W} + ix) * {C}; // the window's corner (only valid taps are read)");
                w.Line($"float* yp = yb + (oy * {OW} + ox) * {C};");
                using (C == V ? null : w.Block($"for (int c = 0; c < {C}; c += {V})"))
                {
                    string c = C == V ? "" : " + c";
                    // Each tap's vector (-inf where the tap is padding), then a tree of maxima: shorter dependency chains.
                    var taps = new List<string>();
                    for (int ky = 0; ky < s.KernelH; ky++)
                    {
                        for (int kx = 0; kx < s.KernelW; kx++)
                        {
                            var conds = new List<string>();
                            if (!rowSafe(ky)) conds.Add($"r{ky}");
                            if (checkColumns) conds.Add($"c{kx}");
                            long off = ((long)ky * s.DilationH * W + (long)kx * s.DilationW) * C;
                            string load = $"{Vec}.Load(xp + {S(off)}{c})";
                            string name = $"t{taps.Count}";
                            w.Line($"var {name} = " + (conds.Count == 0 ? load : $"{string.Join(" & ", conds)} ? {load} : {Vec}.Create(float.NegativeInfinity)") + ";");
                            taps.Add(name);
                        }
                    }
                    while (taps.Count > 1)
                    {
                        var next = new List<string>();
                        for (int i = 0; i + 1 < taps.Count; i += 2)
                        {
                            string name = taps[i] + "m";
                            w.Line($"var {name} = {Vec}.Max({taps[i]}, {taps[i + 1]});");
                            next.Add(name);
                        }
                        if (taps.Count % 2 == 1) next.Add(taps[taps.Count - 1]);
                        taps = next;
                    }
                    w.Line($"{Vec}.Store({taps[0]}, yp{c});");
                }
            }
        }
    }
}
