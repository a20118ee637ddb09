using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Channels-last training for the first layers of a sequential model: from a one-channel input through
    /// convolutions (stride 1, no padding, one group, out channels a multiple of 8, in channels a multiple of 8 after
    /// the first), their ReLUs, max pools and element-wise activations, up to the last max pool or convolution of that run.
    /// <list type="bullet">
    /// <item>forward: the direct convolutions of inference (weights packed [KH, KW, in, out] at the start of each
    /// forward pass into the workspace scratch), max pooling over channel vectors that records the argmax;</item>
    /// <item>backward: d(weights) accumulated per sample in registers (a block of kernel taps × output-channel vectors,
    /// one broadcast input value per tap and pixel), d(input) as a direct convolution of the zero-padded output
    /// gradient with the flipped, transposed weights ([KH, KW, out, in], packed when backward enters the run);</item>
    /// <item>the run's last max pool writes its output transposed back to channels-first (the saved activation the
    /// next layer reads), and its output gradient is transposed to channels-last on the way back.</item>
    /// </list>
    /// </summary>
    internal sealed class ChannelsLastTraining
    {
        private const string K = ChannelsLast.K;
        private const string Hot = ChannelsLast.Hot;
        private const string UseWide = ChannelsLast.UseWide;

        private static string S(long v) => ChannelsLast.S(v);

        /// <summary>First and last layer (indexes into the model's layers, inclusive).</summary>
        public int Start { get; private set; }
        public int End { get; private set; }
        /// <summary>The convolution that ends the run (its output saved channels-first), or -1 when a max pool ends it.</summary>
        public int EndConv { get; private set; } = -1;
        /// <summary>The layer whose output leaves the run: the max pool, or the convolution that ends it.</summary>
        private int Exit => EndConv >= 0 ? EndConv : End;

        /// <summary>Per convolution (layer index): offset of its packed weights in the scratch (forward: [KH, KW, in, out]; backward: flipped [KH, KW, out, in]).</summary>
        public Dictionary<int, long> PackOffset { get; } = new Dictionary<int, long>();
        public long PackFloats { get; private set; }
        /// <summary>After the packs: d(weights) of one convolution in packed order, then one sample's zero-padded output gradient.</summary>
        public long TempFloats { get; private set; }
        public long PadFloats { get; private set; }
        public long ScratchFloats => PackFloats + TempFloats + PadFloats;

        public bool Contains(int i) => i >= Start && i <= End;

        private static bool Elementwise(LayerKind k) => Kernels.LayerTable.Of(k).ElementWise;

        private static bool Eligible(ShapedLayer l, bool first)
        {
            var s = l.Spec;
            return s.Kind == LayerKind.Conv2d && s.Groups == 1 && s.DilationH == 1 && s.DilationW == 1 && s.StrideH == 1 && s.StrideW == 1 &&
                   s.PadH == 0 && s.PadW == 0 && s.Out % 8 == 0 && (first ? l.In.C == 1 : l.In.C % 8 == 0);
        }

        /// <summary>The run for a sequential model, or null when its first layer does not start one.</summary>
        public static ChannelsLastTraining? For(ShapedModel m, MemoryPlan plan)
        {
            if (plan.Branchy || m.Layers.Count == 0) return null;
            int start = 0;
            while (start < m.Layers.Count && !m.Layers[start].HasRow) start++;
            if (start >= m.Layers.Count || !Eligible(m.Layers[start], first: true)) return null;
            // The run may end after a max pool, or after a convolution (with its fused ReLU, if any).
            int end = -1, endConv = -1;
            for (int i = start; i < m.Layers.Count; i++)
            {
                var l = m.Layers[i];
                bool ok = l.Spec.Kind == LayerKind.MaxPool2d || Elementwise(l.Spec.Kind) || (l.Spec.Kind == LayerKind.Conv2d && Eligible(l, i == start));
                if (!ok) break;
                if (l.Spec.Kind == LayerKind.MaxPool2d) (end, endConv) = (i, -1);
                else if (l.Spec.Kind == LayerKind.Conv2d) (end, endConv) = plan.FusesRelu[i] ? (i + 1, i) : (i, i);
            }
            if (end < 0) return null;
            var t = new ChannelsLastTraining { Start = start, End = end, EndConv = endConv };
            for (int i = start; i <= end; i++)
            {
                var l = m.Layers[i];
                if (l.Spec.Kind != LayerKind.Conv2d) continue;
                t.PackOffset[i] = t.PackFloats;
                t.PackFloats += Align((long)l.WeightCount);
                t.TempFloats = Math.Max(t.TempFloats, Align(l.WeightCount));
                long padded = (long)(l.Out.H + 2 * (l.Spec.KernelH - 1)) * (l.Out.W + 2 * (l.Spec.KernelW - 1)) * l.Spec.Out;
                t.PadFloats = Math.Max(t.PadFloats, Align(padded));
            }
            return t;
        }

        private static long Align(long floats) => Alignment.Up(floats);

        public static string Prefix(ShapedLayer l) => LayerEmitter.MethodPrefix(l);

        // ---- Calls from ForwardTrain / Backward ---------------------------------------------------------------------

        /// <summary>The forward call of layer i (null: the caller emits the usual one).</summary>
        public IEnumerable<string>? ForwardCall(ShapedModel m, MemoryPlan plan, int i)
        {
            if (!Contains(i)) return null;
            var l = m.Layers[i];
            string x = $"act + {plan.InSlot[i]} * n", y = $"act + {plan.OutSlot[i]} * n";
            var lines = new List<string>();
            if (i == Start) lines.Add("PackForTraining(p, col); // convolution weights in channels-last order, for this forward pass");
            if (l.Spec.Kind == LayerKind.Conv2d && i == EndConv)
            {
                lines.Add($"{ChannelsLast.Prefix(l)}({x}, ga, p, col + {PackOffset[i]}, col + {PackFloats}, n); // channels-last");
                lines.Add($"{K}ChannelsLast.ToChannelsFirst(ga, {y}, n, {l.Out.C}, {l.Out.H * l.Out.W}); // the run's output, saved channels-first for the layers after it");
            }
            else if (l.Spec.Kind == LayerKind.Conv2d)
                lines.Add($"{ChannelsLast.Prefix(l)}({x}, {y}, p, col + {PackOffset[i]}, col + {PackFloats}, n); // channels-last");
            else if (l.Spec.Kind == LayerKind.MaxPool2d && i == End)
            {
                lines.Add($"{Prefix(l)}_ForwardTrainChannelsLast({x}, ga, idx + {plan.IndexSlot[i]} * n, n);");
                lines.Add($"{K}ChannelsLast.ToChannelsFirst(ga, {y}, n, {l.Out.C}, {l.Out.H * l.Out.W}); // the run's output, saved channels-first for the layers after it");
            }
            else if (l.Spec.Kind == LayerKind.MaxPool2d)
                lines.Add($"{Prefix(l)}_ForwardTrainChannelsLast({x}, {y}, idx + {plan.IndexSlot[i]} * n, n);");
            else
                return null; // element-wise: any layout
            return lines;
        }

        /// <summary>The backward call of layer i (dy in cur, dx into other; null: the usual one).</summary>
        public IEnumerable<string>? BackwardCall(ShapedModel m, MemoryPlan plan, int i, ref string cur, ref string other, string needDx)
        {
            if (!Contains(i)) return null;
            var l = m.Layers[i];
            var lines = new List<string>();
            if (i == Exit)
            {
                if (i == EndConv && End == i + 1)
                    lines.Add($"{K}Ops.ReluBackward(act + {plan.OutSlot[i]} * n, {cur}, {cur}, n * {l.Out.Size}); // the fused ReLU's backward, channels-first like its saved output");
                lines.Add($"{K}ChannelsLast.ToChannelsLast({cur}, {other}, n, {l.Out.C}, {l.Out.H * l.Out.W}); // the output gradient into the run's layout");
                lines.Add("PackFlippedForTraining(p, col); // flipped, transposed convolution weights for the input gradients");
                (cur, other) = (other, cur);
            }
            string x = $"act + {plan.InSlot[i]} * n", y = $"act + {plan.OutSlot[i]} * n";
            if (l.Spec.Kind == LayerKind.Conv2d)
                lines.Add($"{Prefix(l)}_BackwardChannelsLast({x}, {y}, {cur}, {other}, p, g, col + {PackOffset[i]}, col + {PackFloats}, n, {needDx});");
            else if (l.Spec.Kind == LayerKind.MaxPool2d)
                lines.Add($"{Prefix(l)}_BackwardChannelsLast({cur}, {other}, idx + {plan.IndexSlot[i]} * n, n);");
            else
                return null;
            return lines;
        }

        // ---- Methods -----------------------------------------------------------------------------------------------

        public void EmitMethods(CodeWriter w, ShapedModel m, MemoryPlan plan)
        {
            EmitPacks(w, m);
            for (int i = Start; i <= End; i++)
            {
                var l = m.Layers[i];
                if (l.Spec.Kind == LayerKind.Conv2d)
                {
                    EmitConvBackward(w, l, plan.FusesRelu[i] && i != EndConv, i == Start); // the last convolution's ReLU runs channels-first, before the transpose
                }
                else if (l.Spec.Kind == LayerKind.MaxPool2d)
                {
                    EmitPoolForward(w, l);
                    EmitPoolBackward(w, l);
                }
            }
        }

        private void EmitPacks(CodeWriter w, ShapedModel m)
        {
            w.Line("/// <summary>The training run's convolution weights, [KH, KW, in, out], into the workspace scratch.</summary>");
            using (w.Block("private static void PackForTraining(float* p, float* col)"))
            {
                foreach (var kv in PackOffset.OrderBy(e => e.Value))
                {
                    int i = kv.Key;
                    long off = kv.Value;
                    var l = m.Layers[i];
                    w.Line($"{K}ChannelsLast.PackChannelsLast(p + {l.ParamOffset}, col + {off}, {l.Spec.Out}, {l.In.C}, {l.Spec.KernelH * l.Spec.KernelW}); // {l.SummaryName}");
                }
            }
            w.Line();
            w.Line("/// <summary>The training run's convolution weights flipped and transposed, [KH, KW, out, in], for the input gradients.</summary>");
            using (w.Block("private static void PackFlippedForTraining(float* p, float* col)"))
            {
                foreach (var kv in PackOffset.OrderBy(e => e.Value))
                {
                    int i = kv.Key;
                    long off = kv.Value;
                    var l = m.Layers[i];
                    w.Line($"{K}ChannelsLast.PackFlipped(p + {l.ParamOffset}, col + {off}, {l.Spec.Out}, {l.In.C}, {l.Spec.KernelH}, {l.Spec.KernelW}); // {l.SummaryName}");
                }
            }
            w.Line();
        }

        private void EmitConvBackward(CodeWriter w, ShapedLayer l, bool relu, bool first)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, KO = s.Out, OH = l.Out.H, OW = l.Out.W, KH = s.KernelH, KW = s.KernelW;
            long inSize = (long)H * W * C, outSize = (long)OH * OW * KO;
            int wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            bool dataVectorized = C % 8 == 0;
            w.Line($"// {l.SummaryName} backward, channels-last: x [n, {H}, {W}, {C}], y and dy [n, {OH}, {OW}, {KO}]; wd: the flipped weights [{KH}, {KW}, {KO}, {C}].");
            w.Line(Hot);
            using (w.Block($"private static void {Prefix(l)}_BackwardChannelsLast(float* x, float* y, float* dy, float* dx, float* p, float* g, float* wd, float* col, int n, bool needDx)"))
            {
                w.Line($"float* dw = col; // d(weights) in packed order [{KH}, {KW}, {C}, {KO}], summed over the samples");
                w.Line($"new global::System.Span<float>(dw, {S(l.WeightCount)}).Clear();");
                bool vectorDx = !(first && !dataVectorized);
                if (!vectorDx) w.Line($"if (needDx) new global::System.Span<float>(dx, n * {S(inSize)}).Clear();");
                w.Line("// One sample at a time, so its output gradient stays in cache for all four uses.");
                using (w.Block("for (int b = 0; b < n; b++)"))
                {
                    w.Line($"float* xb = x + b * {S(inSize)}, dyb = dy + b * {S(outSize)};");
                    if (relu) w.Line($"{K}Ops.ReluBackward(y + b * {S(outSize)}, dyb, dyb, {S(outSize)}); // the fused ReLU's backward, in place: dy where y > 0");
                    if (s.Bias) w.Line($"{K}ChannelsLast.AddChannelSums(dyb, g + {bOff}, {OH * OW}, {KO}); // d(bias)");
                    if (KO % 16 == 0)
                    {
                        using (w.Block($"if ({UseWide})")) WeightGradientBody(w, l, 16);
                        using (w.Block("else")) WeightGradientBody(w, l, 8);
                    }
                    else
                    {
                        WeightGradientBody(w, l, 8);
                    }
                    if (vectorDx)
                    {
                        w.Line($"if (needDx) {Prefix(l)}_BackwardDataChannelsLast(dyb, dx + b * {S(inSize)}, p, wd, col + {S(Align(l.WeightCount))}, 1);");
                    }
                    else
                    {
                        using (w.Block("if (needDx)"))
                        {
                            w.Line($"// {C} input channel(s): not whole vectors, so the input gradient (asked for by the caller only) runs scalar.");
                            w.Line($"float* dxb = dx + b * {S(inSize)};");
                            w.Line($"for (int oy = 0; oy < {OH}; oy++)");
                            w.Line($"for (int ox = 0; ox < {OW}; ox++)");
                            w.Line($"for (int co = 0; co < {KO}; co++)");
                            using (w.Block(""))
                            {
                                w.Line($"float d = dyb[(oy * {OW} + ox) * {KO} + co];");
                                w.Line($"for (int ci = 0; ci < {C}; ci++)");
                                w.Line($"for (int ky = 0; ky < {KH}; ky++)");
                                w.Line($"for (int kx = 0; kx < {KW}; kx++)");
                                w.Line($"    dxb[((oy + ky) * {W} + ox + kx) * {C} + ci] += d * p[{wOff} + ((co * {C} + ci) * {KH} + ky) * {KW} + kx];");
                            }
                        }
                    }
                }
                w.Line($"{K}ChannelsLast.AddUnpacked(dw, g + {wOff}, {KO}, {C}, {KH * KW}); // into PyTorch's [{KO}, {C}, {KH}, {KW}]");
            }
            w.Line();
            if (!(first && !dataVectorized))
            {
                var d = new ChannelsLast.DirectConv
                {
                    C = KO, H = OH, W = OW, KO = C, OH = H, OW = W, KH = KH, KW = KW, PadH = KH - 1, PadW = KW - 1, BiasOffset = -1, Relu = false,
                };
                w.Line($"// {l.SummaryName}: d(input) = the output gradient, zero-padded by the kernel size - 1, convolved with the flipped weights.");
                w.Line(Hot);
                using (w.Block($"private static void {Prefix(l)}_BackwardDataChannelsLast(float* x, float* y, float* p, float* wt, float* col, int n)"))
                {
                    ChannelsLast.EmitDirectConvBody(w, d);
                }
                w.Line();
            }
        }

        /// <summary>
        /// dW[tap, in, out] += Σ over samples and pixels of x[pixel + tap, in] · dy[pixel, out]: a block of (tap, in) rows ×
        /// output-channel vectors in registers, loaded and stored once per sample; the pixel loop broadcasts one input
        /// value per row.
        /// </summary>
        private static void WeightGradientBody(CodeWriter w, ShapedLayer l, int V)
        {
            var s = l.Spec;
            int C = l.In.C, W = l.In.W, KO = s.Out, OH = l.Out.H, OW = l.Out.W, KH = s.KernelH, KW = s.KernelW;
            long inSize = (long)l.In.H * W * C, outSize = (long)OH * OW * KO;
            string Vec = ChannelsLast.VecType(V);
            int budget = V == 16 ? 24 : 12;
            int coVectors = KO / V;
            int CB = coVectors % 2 == 0 ? 2 : 1;
            int rowsAll = KH * KW * C, rowsPerTap = KW * C;
            bool allRows = rowsAll * CB <= budget;
            int RB = allRows ? rowsAll : Enumerable.Range(1, rowsPerTap).Where(r => rowsPerTap % r == 0 && r * CB <= budget).Max();
            w.Line($"// Vector{V * 32}: {RB} rows × {CB} vector(s) of {V} output channels per block.");
            {
                string rowBase;
                IDisposable? kyLoop = null, tbLoop = null;
                if (allRows)
                {
                    rowBase = "0";
                }
                else
                {
                    kyLoop = w.Block($"for (int ky = 0; ky < {KH}; ky++)");
                    tbLoop = rowsPerTap == RB ? null : w.Block($"for (int tb = 0; tb < {rowsPerTap}; tb += {RB})");
                    rowBase = rowsPerTap == RB ? $"ky * {rowsPerTap}" : $"ky * {rowsPerTap} + tb";
                }
                using (coVectors == CB ? null : w.Block($"for (int co = 0; co < {KO}; co += {CB * V})"))
                {
                    string co = coVectors == CB ? "" : " + co";
                    // Row r of the block: (tap, in) row index rowBase + r; its input offset from the pixel.
                    long XOff(int r)
                    {
                        if (!allRows) return r; // within one kernel row: kernel column × input channel, contiguous
                        int ky = r / rowsPerTap, t = r % rowsPerTap;
                        return (long)ky * W * C + t;
                    }
                    w.Line($"float* dwr = dw + ({rowBase}) * {KO}{co};");
                    w.Line($"float* xk = xb{(allRows ? "" : $" + ky * {S((long)W * C)}" + (rowsPerTap == RB ? "" : " + tb"))};");
                    for (int j = 0; j < CB; j++)
                    {
                        w.Line($"{Vec}<float> " + string.Join(", ", Enumerable.Range(0, RB).Select(r => $"a{r}_{j} = {Vec}.Load(dwr + {S((long)r * KO + j * V)})")) + ";");
                    }
                    using (w.Block($"for (int oy = 0; oy < {OH}; oy++)"))
                    {
                        w.Line($"float* xp = xk + oy * {S((long)W * C)};");
                        w.Line($"float* dp = dyb + oy * {S((long)OW * KO)}{co};");
                        using (w.Block($"for (int ox = 0; ox < {OW}; ox++, xp += {C}, dp += {KO})"))
                        {
                            w.Line(string.Join(" ", Enumerable.Range(0, CB).Select(j => $"var d{j} = {Vec}.Load(dp{(j == 0 ? "" : " + " + S(j * V))});")));
                            for (int r = 0; r < RB; r++)
                            {
                                var fmas = Enumerable.Range(0, CB).Select(j => $"a{r}_{j} = {Vec}.FusedMultiplyAdd(v, d{j}, a{r}_{j});");
                                w.Line($"{{ var v = {Vec}.Create(xp[{S(XOff(r))}]); {string.Join(" ", fmas)} }}");
                            }
                        }
                    }
                    for (int r = 0; r < RB; r++)
                    {
                        w.Line(string.Join(" ", Enumerable.Range(0, CB).Select(j => $"{Vec}.Store(a{r}_{j}, dwr + {S((long)r * KO + j * V)});")));
                    }
                }
                tbLoop?.Dispose();
                kyLoop?.Dispose();
            }
        }

        /// <summary>Max pooling over channel vectors that keeps, per output element, the index of the input element it took (PyTorch's rule: the first valid element starts the window, a later one wins if greater, NaN wins).</summary>
        private static void EmitPoolForward(CodeWriter w, ShapedLayer l)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            w.Line($"// {l.SummaryName}, channels-last, training: x [n, {H}, {W}, {C}] -> y [n, {OH}, {OW}, {C}], idx: the input element (within its sample) each output took.");
            w.Line(Hot);
            using (w.Block($"private static void {Prefix(l)}_ForwardTrainChannelsLast(float* x, float* y, int* idx, int n)"))
            {
                const string V = "Vector256";
                w.Line($"var lanes = {V}.Create(0, 1, 2, 3, 4, 5, 6, 7);");
                using (w.Block("for (int b = 0; b < n; b++)"))
                {
                    w.Line($"float* xb = x + b * {S((long)H * W * C)}, yb = y + b * {S((long)OH * OW * C)};");
                    w.Line($"int* ib = idx + b * {S((long)OH * OW * C)};");
                    using (w.Block($"for (int oy = 0; oy < {OH}; oy++)"))
                    using (w.Block($"for (int ox = 0; ox < {OW}; ox++)"))
                    using (w.Block($"for (int c = 0; c < {C}; c += 8)"))
                    {
                        w.Line($"var best = {V}.Create(float.NegativeInfinity);");
                        w.Line($"var at = {V}.Create(-1);");
                        for (int ky = 0; ky < s.KernelH; ky++)
                        {
                            for (int kx = 0; kx < s.KernelW; kx++)
                            {
                                w.Line($"{{ int iy = oy * {s.StrideH} + {ky * s.DilationH - s.PadH}, ix = ox * {s.StrideW} + {kx * s.DilationW - s.PadW};");
                                w.Line($"  if ((uint)iy < {H}u && (uint)ix < {W}u)");
                                w.Line($"  {{ int e = (iy * {W} + ix) * {C} + c; var v = {V}.Load(xb + e);");
                                w.Line($"    var take = {V}.GreaterThan(v, best) | ~{V}.Equals(v, v) | {V}.AsSingle({V}.LessThan(at, {V}<int>.Zero));");
                                w.Line($"    best = {V}.ConditionalSelect(take, v, best); at = {V}.ConditionalSelect({V}.AsInt32(take), lanes + {V}.Create(e), at); }} }}");
                            }
                        }
                        w.Line($"int o = (oy * {OW} + ox) * {C} + c;");
                        w.Line($"{V}.Store(best, yb + o);");
                        w.Line($"{V}.Store(at, ib + o);");
                    }
                }
            }
            w.Line();
        }

        private static void EmitPoolBackward(CodeWriter w, ShapedLayer l)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            long inSize = (long)H * W * C, outSize = (long)OH * OW * C;
            bool tiles = s.StrideH == s.KernelH && s.StrideW == s.KernelW && s.DilationH == 1 && s.DilationW == 1;
            bool covers = tiles && OH * s.StrideH - s.PadH >= H && OW * s.StrideW - s.PadW >= W;
            w.Line(Hot);
            using (w.Block($"private static void {Prefix(l)}_BackwardChannelsLast(float* dy, float* dx, int* idx, int n)"))
            {
                if (!tiles)
                {
                    w.Line("// Windows overlap: clear, then add each output's gradient at the element it took.");
                    w.Line($"new global::System.Span<float>(dx, n * {S(inSize)}).Clear();");
                    using (w.Block("for (int b = 0; b < n; b++)"))
                    {
                        w.Line($"float* dxb = dx + b * {S(inSize)}, dyb = dy + b * {S(outSize)};");
                        w.Line($"int* ib = idx + b * {S(outSize)};");
                        w.Line($"for (int o = 0; o < {S(outSize)}; o++) dxb[ib[o]] += dyb[o];");
                    }
                }
                else
                {
                    const string V = "Vector256";
                    w.Line("// The windows tile the input: each input element gets its window's gradient where it was taken, else 0, in one pass.");
                    if (!covers) w.Line($"new global::System.Span<float>(dx, n * {S(inSize)}).Clear(); // elements no window covers stay 0");
                    w.Line($"var lanes = {V}.Create(0, 1, 2, 3, 4, 5, 6, 7);");
                    using (w.Block("for (int b = 0; b < n; b++)"))
                    {
                        w.Line($"float* dxb = dx + b * {S(inSize)}, dyb = dy + b * {S(outSize)};");
                        w.Line($"int* ib = idx + b * {S(outSize)};");
                        using (w.Block($"for (int oy = 0; oy < {OH}; oy++)"))
                        using (w.Block($"for (int ox = 0; ox < {OW}; ox++)"))
                        using (w.Block($"for (int c = 0; c < {C}; c += 8)"))
                        {
                            w.Line($"int o = (oy * {OW} + ox) * {C} + c;");
                            w.Line($"var d = {V}.Load(dyb + o);");
                            w.Line($"var at = {V}.Load(ib + o);");
                            for (int ky = 0; ky < s.KernelH; ky++)
                            {
                                for (int kx = 0; kx < s.KernelW; kx++)
                                {
                                    w.Line($"{{ int iy = oy * {s.StrideH} + {ky - s.PadH}, ix = ox * {s.StrideW} + {kx - s.PadW};");
                                    w.Line($"  if ((uint)iy < {H}u && (uint)ix < {W}u)");
                                    w.Line($"  {{ int e = (iy * {W} + ix) * {C} + c; {V}.Store({V}.ConditionalSelect({V}.AsSingle({V}.Equals(at, lanes + {V}.Create(e))), d, {V}<float>.Zero), dxb + e); }} }}");
                                }
                            }
                        }
                    }
                }
            }
            w.Line();
        }
    }
}
