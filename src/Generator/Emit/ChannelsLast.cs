using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Channels-last (NHWC) inference for sequential models. A run of convolutions, max pools and element-wise
    /// activations executes with every pixel's channels contiguous:
    /// <list type="bullet">
    /// <item>a convolution is a direct one, no im2col: for a block of output pixels × output-channel vectors held in
    /// registers, every step broadcasts one input value per pixel and multiplies it into a vector of weights, so the
    /// weights must be [KH, KW, in, out] ("packed" once, and again only when <c>Parameters</c> change);</item>
    /// <item>a max pool takes the maximum of whole channel vectors: no shuffles, no gathers;</item>
    /// <item>the activations are element-wise either way.</item>
    /// </list>
    /// The run starts at a convolution (the input is transposed to channels-last unless it has one channel) and ends
    /// with a transpose back to channels-first for the next layer (a Linear after a Flatten sees PyTorch's order).
    /// Training keeps the channels-first layout throughout.
    /// </summary>
    internal sealed partial class ChannelsLast
    {
        internal const string K = "global::CnnGen.Kernels.";
        internal const string Hot = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";
        /// <summary>The run-time switch between the Vector512 and Vector256 bodies (a static readonly bool: the JIT keeps one).</summary>
        internal const string UseWide = "global::CnnGen.Kernels.Gemm.UseVector512";

        internal static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>The vector type of a body: 16 floats (Vector512) or 8 (Vector256).</summary>
        internal static string VecType(int V) => V == 16 ? "Vector512" : "Vector256";

        /// <summary>Runs of the inference layer list: [Start, End) indexes.</summary>
        public List<(int Start, int End)> Segments { get; } = new List<(int, int)>();

        /// <summary>Each directly computed convolution's packed weights: offset in the packed array (floats, 64-byte aligned).</summary>
        public Dictionary<ShapedLayer, long> PackOffset { get; } = new Dictionary<ShapedLayer, long>();

        /// <summary>The packed array's length (floats).</summary>
        public long PackedFloats { get; private set; }

        public bool Any => Segments.Count > 0;

        /// <summary>Convolutions whose max pool (the next layer) runs inside them, band by band (see <see cref="EmitFused"/>).</summary>
        public Dictionary<ShapedLayer, ShapedLayer> FusedPool { get; } = new Dictionary<ShapedLayer, ShapedLayer>();

        /// <summary>Scratch floats the fused convolutions need: the padded input, then a band of output rows.</summary>
        public long FusedScratch { get; private set; }

        /// <summary>Finds the channels-last runs in <paramref name="run"/> (the layers inference executes, in order).</summary>
        public static ChannelsLast For(IReadOnlyList<ShapedLayer> run, Func<ShapedLayer, bool> foldedConv)
        {
            var cl = new ChannelsLast();
            for (int i = 0; i < run.Count; i++)
            {
                if (!IsDirectConv(run[i], foldedConv(run[i]))) continue;
                int j = i;
                while (j < run.Count && (IsDirectConv(run[j], foldedConv(run[j])) || Passes(run[j])))
                {
                    if (run[j].Spec.Kind == LayerKind.Conv2d)
                    {
                        cl.PackOffset[run[j]] = cl.PackedFloats;
                        cl.PackedFloats += Alignment.Up(PackedCount(run[j]));
                    }
                    j++;
                }
                cl.Segments.Add((i, j));
                if (i == 0)
                {
                    // The run that starts at the input goes sample by sample: there a convolution and the max pool
                    // after it fuse when the pool's windows tile the rows (each output row computed once).
                    for (int k = i; k + 1 < j; k++)
                    {
                        ShapedLayer c = run[k], pool = run[k + 1];
                        var ps = pool.Spec;
                        if (c.Spec.Kind != LayerKind.Conv2d || ps.Kind != LayerKind.MaxPool2d || ps.StrideH != ps.KernelH || ps.DilationH != 1) continue;
                        cl.FusedPool[c] = pool;
                        long padded = c.Spec.PadH > 0 || c.Spec.PadW > 0 ? Alignment.Up(PaddedInput(c)) : 0;
                        cl.FusedScratch = Math.Max(cl.FusedScratch, padded + (long)ps.KernelH * c.Out.W * c.Spec.Out);
                        k++;
                    }
                }
                i = j - 1;
            }
            return cl;
        }

        /// <summary>A convolution computed directly in channels-last: one group, no dilation, out channels a multiple of 8 (whole Vector256s).</summary>
        public static bool IsDirectConv(ShapedLayer l, bool foldedWithBatchNorm)
        {
            var s = l.Spec;
            return s.Kind == LayerKind.Conv2d && s.Groups == 1 && s.DilationH == 1 && s.DilationW == 1 && s.Out % 8 == 0 && !foldedWithBatchNorm
                   && (s.PadH == 0 && s.PadW == 0 || PaddedInput(l) <= LayerEmitter.ConvScratch(l));
        }

        /// <summary>Layers that run unchanged (element-wise) or have a channels-last version (max pooling).</summary>
        private static bool Passes(ShapedLayer l) => l.Spec.Kind == LayerKind.MaxPool2d || Kernels.LayerTable.Of(l).ElementWise;

        private static long PackedCount(ShapedLayer l) => (long)l.Spec.KernelH * l.Spec.KernelW * l.In.C * l.Spec.Out;

        /// <summary>One sample's zero-padded input, [H + 2·padH, W + 2·padW, C] (copied into the scratch when the convolution pads).</summary>
        private static long PaddedInput(ShapedLayer l) => (long)(l.In.H + 2 * l.Spec.PadH) * (l.In.W + 2 * l.Spec.PadW) * l.In.C;

        public static string Prefix(ShapedLayer l) => LayerEmitter.MethodPrefix(l) + "_ForwardChannelsLast";

        // ---- The packed weights ----------------------------------------------------------------------------------------

        /// <summary>
        /// The cache of packed weights: the source weights it was packed from (compared bitwise on every call, a few
        /// microseconds at most), the packed array. Immutable once published, so threads share it safely.
        /// </summary>
        public void EmitPackCache(CodeWriter w)
        {
            var convs = PackOffset.Keys.OrderBy(l => PackOffset[l]).ToList();
            long sourceFloats = convs.Sum(l => (long)l.WeightCount);
            w.Line("/// <summary>Weights of the directly computed convolutions in channels-last order [KH, KW, in, out], and the parameters they were packed from.</summary>");
            using (w.Block("private sealed class ChannelsLastWeights"))
            {
                w.Line($"public readonly float[] Source = new float[{S(sourceFloats)}];");
                w.Line($"public readonly float[] Packed = global::CnnGen.Kernels.AlignedMemory.Allocate({S(PackedFloats)}); // pinned");
            }
            w.Line();
            w.Line("private ChannelsLastWeights? _channelsLast;");
            w.Line();
            w.Line("/// <summary>The packed weights for the current <see cref=\"Parameters\"/>: reused while the convolution weights are bitwise unchanged, packed anew (one allocation) after they change.</summary>");
            using (w.Block("private unsafe float[] ChannelsLastPack()"))
            {
                w.Line("ChannelsLastWeights? c = _channelsLast;");
                w.Line("float[] p = Parameters;");
                var same = new List<string>();
                long src = 0;
                foreach (var l in convs)
                {
                    same.Add($"{K}ChannelsLast.BitwiseEqual(new global::System.ReadOnlySpan<float>(p, {S(l.ParamOffset)}, {S(l.WeightCount)}), new global::System.ReadOnlySpan<float>(c.Source, {S(src)}, {S(l.WeightCount)}))");
                    src += l.WeightCount;
                }
                w.Line("if (c is not null");
                foreach (var s in same) w.Line("    && " + s);
                w.Line("   ) return c.Packed;");
                w.Line("c = new ChannelsLastWeights();");
                src = 0;
                using (w.Block($"fixed (float* pp = p, packed0 = c.Packed)"))
                {
                    w.Line($"float* packed = {K}AlignedMemory.Align(packed0);");
                    foreach (var l in convs)
                    {
                        w.Line($"new global::System.ReadOnlySpan<float>(p, {S(l.ParamOffset)}, {S(l.WeightCount)}).CopyTo(new global::System.Span<float>(c.Source, {S(src)}, {S(l.WeightCount)}));");
                        w.Line($"{K}ChannelsLast.PackChannelsLast(pp + {S(l.ParamOffset)}, packed + {S(PackOffset[l])}, {S(l.Spec.Out)}, {S(l.In.C)}, {S(l.Spec.KernelH * l.Spec.KernelW)}); // {l.SummaryName}: [{l.Spec.Out}, {l.In.C}, {l.Spec.KernelH}, {l.Spec.KernelW}] -> [{l.Spec.KernelH}, {l.Spec.KernelW}, {l.In.C}, {l.Spec.Out}]");
                        src += l.WeightCount;
                    }
                }
                w.Line("global::System.Threading.Volatile.Write(ref _channelsLast, c);");
                w.Line("return c.Packed;");
            }
            w.Line();
        }

        // ---- Kernels ---------------------------------------------------------------------------------------------------

        public void EmitMethods(CodeWriter w, IReadOnlyList<ShapedLayer> run, bool[] fusesRelu, Func<ShapedLayer, int> indexOf)
        {
            foreach (var (start, end) in Segments)
            {
                for (int i = start; i < end; i++)
                {
                    var l = run[i];
                    if (l.Spec.Kind == LayerKind.Conv2d && FusedPool.TryGetValue(l, out var pool))
                    {
                        EmitFused(w, l, fusesRelu[indexOf(l)], pool);
                        i++;
                    }
                    else if (l.Spec.Kind == LayerKind.Conv2d) EmitConv(w, l, fusesRelu[indexOf(l)]);
                    else if (l.Spec.Kind == LayerKind.MaxPool2d) EmitMaxPool(w, l);
                }
            }
        }

        /// <summary>
        /// The register block of a direct convolution: CB output-channel vectors × R rows × PC columns of output pixels,
        /// at most <paramref name="accumulators"/> vectors. Chosen by a small cost model: a step of the reduction costs
        /// max(FMAs, loads) / 2 cycles (two of each per cycle) plus one for the loop, and blocks that overlap at the
        /// edges (the last block of a row or column is moved back to fit) compute their overlap twice.
        /// </summary>
        internal static (int CB, int R, int PC) Blocking(int coVectors, int OH, int OW, int accumulators)
        {
            (int, int, int) best = (1, 1, 1);
            double bestCost = double.MaxValue;
            for (int cb = 1; cb <= Math.Min(coVectors, 8); cb++)
            {
                if (coVectors % cb != 0) continue;
                int maxPixels = accumulators / cb;
                for (int r = 1; r <= Math.Min(OH, maxPixels); r++)
                {
                    for (int pc = 1; pc <= Math.Min(OW, maxPixels / r); pc++)
                    {
                        int blocks = (OH + r - 1) / r * ((OW + pc - 1) / pc) * (coVectors / cb);
                        double step = Math.Max(cb * r * pc, cb + r * pc) / 2.0 + 1;
                        double cost = blocks * step;
                        if (cost < bestCost - 1e-9)
                        {
                            bestCost = cost;
                            best = (cb, r, pc);
                        }
                    }
                }
            }
            return best;
        }

        /// <summary>
        /// The shape of one direct channels-last convolution: input [H, W, C] (padded by PadH/PadW into the scratch
        /// first when they are not zero), output [OH, OW, KO], packed weights [KH, KW, C, KO]; bias at p[BiasOffset]
        /// (or none when negative); ReLU on the output.
        /// </summary>
        internal sealed class DirectConv
        {
            public int C, H, W, KO, OH, OW, KH, KW, SH = 1, SW = 1, PadH, PadW;
            public int BiasOffset = -1;
            public bool Relu;
            /// <summary>One output row only (OH = 1), at xb / yb set by the caller, inside its loops.</summary>
            public bool RowMode;
            public int HP => H + 2 * PadH;
            public int WP => W + 2 * PadW;
            public bool Padded => PadH > 0 || PadW > 0;

            public static DirectConv Of(ShapedLayer l, bool relu) => new DirectConv
            {
                C = l.In.C, H = l.In.H, W = l.In.W, KO = l.Spec.Out, OH = l.Out.H, OW = l.Out.W, KH = l.Spec.KernelH, KW = l.Spec.KernelW,
                SH = l.Spec.StrideH, SW = l.Spec.StrideW, PadH = l.Spec.PadH, PadW = l.Spec.PadW,
                BiasOffset = l.Spec.Bias ? l.ParamOffset + l.WeightCount : -1, Relu = relu,
            };
        }

        internal static void EmitConv(CodeWriter w, ShapedLayer l, bool relu)
        {
            var d = DirectConv.Of(l, relu);
            w.Line($"// {l.SummaryName}, channels-last and direct: x [n, {d.H}, {d.W}, {d.C}] -> y [n, {d.OH}, {d.OW}, {d.KO}], packed weights wt [{d.KH}, {d.KW}, {d.C}, {d.KO}]" + (relu ? ", then ReLU" : "") + ".");
            w.Line("// Each block keeps output pixels × output-channel vectors in registers; each reduction step broadcasts one input value per pixel.");
            w.Line(Hot);
            using (w.Block($"private static void {Prefix(l)}(float* x, float* y, float* p, float* wt, float* col, int n)"))
            {
                EmitDirectConvBody(w, d);
            }
            w.Line();
        }

        public static string FusedPrefix(ShapedLayer conv, ShapedLayer pool) =>
            LayerEmitter.MethodPrefix(conv) + "_" + LayerEmitter.MethodPrefix(pool) + "_ForwardChannelsLast";

        /// <summary>
        /// A convolution and the max pool after it, one band of output rows at a time: the convolution writes the rows
        /// one pool row needs into a small buffer (in L1), the pool reads them from there, so the convolution's full
        /// output never goes through memory.
        /// </summary>
        private static void EmitFused(CodeWriter w, ShapedLayer conv, bool relu, ShapedLayer pool)
        {
            var d = DirectConv.Of(conv, relu);
            var ps = pool.Spec;
            int KO = d.KO, OWc = d.OW, OHc = d.OH, OHp = pool.Out.H;
            long band = (long)OWc * KO;
            long paddedFloats = d.Padded ? Alignment.Up(PaddedInput(conv)) : 0;
            w.Line($"// {conv.SummaryName} and {pool.SummaryName}, channels-last and fused: x [n, {d.H}, {d.W}, {d.C}] -> [n, {pool.Out.H}, {pool.Out.W}, {KO}];");
            w.Line($"// for each output row of the pool, the convolution first writes the {ps.KernelH} row(s) it pools into a band buffer.");
            w.Line(Hot);
            using (w.Block($"private static void {FusedPrefix(conv, pool)}(float* x, float* y, float* p, float* wt, float* col, int n)"))
            {
                void Body(int V)
                {
                    var row = DirectConv.Of(conv, relu);
                    row.OH = 1;
                    row.RowMode = true;
                    using (w.Block("for (int b = 0; b < n; b++)"))
                    {
                        if (d.Padded)
                        {
                            w.Line($"float* xs = col; // the sample, zero-padded to [{d.HP}, {d.WP}, {d.C}]");
                            w.Line($"{K}ChannelsLast.PadChannelsLast(x + b * {S((long)d.H * d.W * d.C)}, col, {d.H}, {d.W}, {d.C}, {d.PadH}, {d.PadW});");
                        }
                        else
                        {
                            w.Line($"float* xs = x + b * {S((long)d.H * d.W * d.C)};");
                        }
                        w.Line($"float* ys = y + b * {S(pool.Out.Size)};");
                        w.Line($"float* band = col + {S(paddedFloats)}; // [{ps.KernelH}, {OWc}, {KO}]");
                        using (w.Block($"for (int oy = 0; oy < {OHp}; oy++)"))
                        {
                            w.Line($"int first = global::System.Math.Max(0, oy * {ps.StrideH} - {ps.PadH}), end = global::System.Math.Min({OHc}, oy * {ps.StrideH} - {ps.PadH} + {ps.KernelH});");
                            using (w.Block("for (int cr = first; cr < end; cr++)"))
                            {
                                w.Line($"float* xb = xs + cr * {S((long)d.SH * d.WP * d.C)}, yb = band + (cr - first) * {S(band)};");
                                ConvBody(w, row, V);
                            }
                            using (w.Block(""))
                            {
                                w.Line($"float* xb = band - first * {S(band)}, yb = ys; // convolution row r sits at band row r - first");
                                PoolRow(w, pool, V);
                            }
                        }
                    }
                }
                if (KO % 16 == 0)
                {
                    using (w.Block($"if ({UseWide})"))
                    {
                        Body(16);
                        w.Line("return;");
                    }
                }
                Body(8);
            }
            w.Line();
        }

        /// <summary>The body of a direct convolution over (x, y, p, wt, col, n): the Vector512 version where it runs, else Vector256.</summary>
        internal static void EmitDirectConvBody(CodeWriter w, DirectConv d)
        {
            if (d.KO % 16 == 0)
            {
                using (w.Block($"if ({UseWide})"))
                {
                    ConvBody(w, d, 16);
                    w.Line("return;");
                }
            }
            ConvBody(w, d, 8);
        }

        private static void ConvBody(CodeWriter w, DirectConv d, int V)
        {
            int C = d.C, H = d.H, W = d.W, KO = d.KO, OH = d.OH, OW = d.OW, KW = d.KW, HP = d.HP, WP = d.WP;
            string Vec = VecType(V);
            int coVectors = KO / V;
            var (CB, R, PC) = Blocking(coVectors, OH, OW, V == 16 ? 24 : 12);
            int rowBlocks = (OH + R - 1) / R, colBlocks = (OW + PC - 1) / PC;
            w.Line($"// Vector{V * 32}: blocks of {R} × {PC} pixels × {CB} vector(s) of {V} output channels ({R * PC * CB} accumulators).");
            using (d.RowMode ? null : w.Block("for (int b = 0; b < n; b++)"))
            {
                if (d.RowMode)
                {
                    // the caller points xb at the input row and yb at the output row
                }
                else if (d.Padded)
                {
                    w.Line($"float* xb = col; // the sample, zero-padded to [{HP}, {WP}, {C}]");
                    w.Line($"{K}ChannelsLast.PadChannelsLast(x + b * {S((long)H * W * C)}, col, {H}, {W}, {C}, {d.PadH}, {d.PadW});");
                }
                else
                {
                    w.Line($"float* xb = x + b * {S((long)H * W * C)};");
                }
                if (!d.RowMode) w.Line($"float* yb = y + b * {S((long)OH * OW * KO)};");
                string rowLoop = rowBlocks == 1 ? "" : $"for (int rb = 0; rb < {rowBlocks}; rb++)";
                string colLoop = colBlocks == 1 ? "" : $"for (int cb = 0; cb < {colBlocks}; cb++)";
                using (rowLoop == "" ? null : w.Block(rowLoop))
                using (colLoop == "" ? null : w.Block(colLoop))
                {
                    string oy = rowBlocks == 1 ? "0" : (OH % R == 0 ? Mul("rb", R) : $"global::System.Math.Min(rb * {R}, {OH - R})");
                    string ox = colBlocks == 1 ? "0" : (OW % PC == 0 ? Mul("cb", PC) : $"global::System.Math.Min(cb * {PC}, {OW - PC})");
                    if (rowBlocks != 1 || colBlocks != 1)
                    {
                        w.Line($"int by = {oy}, bx = {ox}; // the block's first output row and column" + (OH % R != 0 || OW % PC != 0 ? " (the last block moves back to fit; its overlap is computed twice)" : ""));
                        oy = "by";
                        ox = "bx";
                    }
                    w.Line($"float* xo = xb + ({Mul(oy, d.SH * WP)} + {Mul(ox, d.SW)}) * {C};");
                    w.Line($"float* yo = yb + ({Mul(oy, OW)} + {ox}) * {KO};");
                    int coBlocks = coVectors / CB;
                    using (coBlocks == 1 ? null : w.Block($"for (int co = 0; co < {KO}; co += {CB * V})"))
                    {
                        string co = coBlocks == 1 ? "" : " + co";
                        for (int j = 0; j < CB; j++)
                        {
                            string init = d.BiasOffset >= 0 ? $"{Vec}.Load(p + {S(d.BiasOffset + j * V)}{co})" : $"{Vec}<float>.Zero";
                            var names = Enumerable.Range(0, R * PC).Select(i => $"a{i}_{j} = " + (i == 0 ? init : $"a0_{j}"));
                            w.Line($"{Vec}<float> " + string.Join(", ", names) + ";");
                        }
                        // Kernel rows that read only the zero padding for every row of the block are skipped.
                        string kyRange = $"int ky = 0; ky < {d.KH}; ky++";
                        if (d.PadH > 0 && d.SH == 1 && !d.RowMode)
                        {
                            string lo = $"global::System.Math.Max(0, {d.PadH - R + 1} - {oy})", hi = $"global::System.Math.Min({d.KH}, {H + d.PadH} - {oy})";
                            kyRange = $"int ky = {lo}, kyEnd = {hi}; ky < kyEnd; ky++";
                        }
                        using (w.Block($"for ({kyRange})"))
                        {
                            w.Line($"float* xt = xo + ky * {S((long)WP * C)};");
                            w.Line($"float* wk = wt + ky * {S((long)KW * C * KO)}{co};");
                            using (w.Block($"for (int t = 0; t < {KW * C}; t++, xt++, wk += {KO}) // kernel column × input channel: contiguous in both x and wt"))
                            {
                                w.Line(string.Join(" ", Enumerable.Range(0, CB).Select(j => $"var w{j} = {Vec}.Load(wk{(j == 0 ? "" : " + " + S(j * V))});")));
                                for (int r = 0; r < R; r++)
                                {
                                    for (int c = 0; c < PC; c++)
                                    {
                                        int i = r * PC + c;
                                        long off = ((long)r * d.SH * WP + (long)c * d.SW) * C;
                                        var fmas = Enumerable.Range(0, CB).Select(j => $"a{i}_{j} = {Vec}.FusedMultiplyAdd(v, w{j}, a{i}_{j});");
                                        w.Line($"{{ var v = {Vec}.Create(xt[{S(off)}]); {string.Join(" ", fmas)} }}");
                                    }
                                }
                            }
                        }
                        for (int r = 0; r < R; r++)
                        {
                            for (int c = 0; c < PC; c++)
                            {
                                int i = r * PC + c;
                                long off = ((long)r * OW + c) * KO;
                                var stores = Enumerable.Range(0, CB).Select(j =>
                                    $"{Vec}.Store(" + (d.Relu ? $"{Vec}.Max(a{i}_{j}, {Vec}<float>.Zero)" : $"a{i}_{j}") + $", yo + {S(off + j * V)}{co});");
                                w.Line(string.Join(" ", stores));
                            }
                        }
                    }
                }
            }
        }

        private static string Mul(string v, long k) => v == "0" ? "0" : k == 1 ? v : $"{v} * {S(k)}";

    }
}
