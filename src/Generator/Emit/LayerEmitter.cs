using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// Forward and backward code for every layer kind, side by side. Every size is a constant; kernel taps
    /// are unrolled; copy bounds at the padded borders are resolved here, at compile time.
    /// Uniform signatures (unused arguments are simply ignored):
    ///   Forward(x, y, p, col, idx, mask, n, training, ws)
    ///   Backward(x, y, dy, dx, p, g, col, idx, mask, n, needDx)
    /// x/y are the layer's input/output [n, ...], p/g the flat parameters/gradients, col im2col scratch,
    /// idx max-pool argmax, mask the dropout factors.
    /// </summary>
    internal static class LayerEmitter
    {
        private const string K = "global::CnnGen.Kernels.";
        private const string L = "global::CnnGen.Kernels.LayerOps.";
        private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        private static string F(double v) => Text.Float(v);

        public static string MethodPrefix(ShapedLayer l) => l.TypeName + "_" + l.SummaryName.Substring(l.SummaryName.LastIndexOf('-') + 1);

        private const string Hot = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

        public const string ForwardParams = "float* x, float* y, float* p, float* col, int* idx, float* mask, int n, bool training, global::CnnGen.TrainingWorkspace? ws";
        public const string BackwardParams = "float* x, float* y, float* dy, float* dx, float* p, float* g, float* col, int* idx, float* mask, int n, bool needDx";

        /// <summary>
        /// Emits layer <paramref name="l"/>'s channels-first methods that the plan calls (<paramref name="variants"/>: Forward,
        /// Backward, batch norm's Inference). <paramref name="fuseRelu"/>: a Conv2d that also applies the ReLU after it (see
        /// <see cref="MemoryPlan.FusesRelu"/>); <paramref name="reluFused"/>: that ReLU, which then has no code of its own.
        /// </summary>
        public static void Emit(CodeWriter w, ShapedLayer l, bool fuseRelu, bool reluFused, Variants variants)
        {
            string pre = MethodPrefix(l);
            if (reluFused)
            {
                w.Line($"// ---- {l.SummaryName}: {Describe(l)}: applied by the convolution before it (output and gradient) ----");
                w.Line();
                return;
            }
            w.Line($"// ---- {l.SummaryName}: {Describe(l)}{(fuseRelu ? "; then ReLU (the next layer's, fused)" : "")} ----");
            if (variants == Variants.None)
            {
                w.Line("// Runs channels-last only, in inference and in training: its methods are the channels-last ones below.");
                w.Line();
                return;
            }
            switch (l.Spec.Kind)
            {
                case LayerKind.Conv2d when IsDepthwise(l.Spec): DepthwiseConv(w, l, pre); break;
                case LayerKind.Conv2d: Conv(w, l, pre, fuseRelu, variants); break;
                case LayerKind.BatchNorm2d: BatchNorm(w, l, pre, variants); break;
                case LayerKind.AdaptiveAvgPool2d:
                case LayerKind.GlobalAvgPool2d: GlobalAvgPool(w, l, pre); break;
                case LayerKind.Identity: Identity(w, l, pre); break;
                case LayerKind.MaxPool2d: MaxPool(w, l, pre, variants); break;
                case LayerKind.AvgPool2d: AvgPool(w, l, pre); break;
                case LayerKind.Linear: Linear(w, l, pre); break;
                case LayerKind.Dropout:
                case LayerKind.Dropout2d: Dropout(w, l, pre); break;
                case LayerKind.Softmax:
                case LayerKind.LogSoftmax: SoftmaxLike(w, l, pre); break;
                default: Elementwise(w, l, pre); break;
            }
            w.Line();
        }

        public static string Describe(ShapedLayer l)
        {
            var s = l.Spec;
            string io = $"x [n, {Dims(l.In)}] -> y [n, {Dims(l.Out)}]";
            switch (s.Kind)
            {
                case LayerKind.Conv2d:
                    return $"{io}; kernel {s.KernelH}×{s.KernelW}, stride ({s.StrideH}, {s.StrideW}), padding ({s.PadH}, {s.PadW}), dilation ({s.DilationH}, {s.DilationW}), groups {s.Groups}; " +
                           $"weight [{string.Join(", ", l.WeightShape)}] at p[{l.ParamOffset}]" + (s.Bias ? $", bias [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no bias");
                case LayerKind.Linear:
                    return $"{io}; weight [{s.Out}, {s.In}] at p[{l.ParamOffset}]" + (s.Bias ? $", bias [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no bias");
                case LayerKind.BatchNorm2d:
                    return $"{io}; eps {Text.Number(s.Value)}, momentum {Text.Number(s.Momentum)}" +
                           (s.Bias ? $", weight (γ) [{s.Out}] at p[{l.ParamOffset}], bias (β) [{s.Out}] at p[{l.ParamOffset + l.WeightCount}]" : ", no affine parameters");
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool2d:
                    return $"{io}; window {s.KernelH}×{s.KernelW}, stride ({s.StrideH}, {s.StrideW}), padding ({s.PadH}, {s.PadW})" +
                           (s.Kind == LayerKind.MaxPool2d ? $", dilation ({s.DilationH}, {s.DilationW})" : ", padding counted in the divisor");
                default:
                    return io;
            }
        }

        private static string Dims(Shape s) => s.Flat ? S(s.C) : $"{s.C}, {s.H}, {s.W}";

        // ================================ Conv2d ================================
        private static bool IsPointwise(LayerSpec s) =>
            s.KernelH == 1 && s.KernelW == 1 && s.StrideH == 1 && s.StrideW == 1 && s.PadH == 0 && s.PadW == 0;

        /// <summary>Batched convolutions aim for GEMMs at least this many columns wide (samples × output pixels).</summary>
        private const int TargetColumns = 512;

        /// <summary>
        /// Samples per batched GEMM of a convolution: enough that samples × output pixels reaches
        /// <see cref="TargetColumns"/>, at most 32; 1 (per-sample GEMMs, no staging) for large outputs.
        /// </summary>
        public static int ConvChunk(ShapedLayer l)
        {
            int ohow = l.Out.H * l.Out.W;
            if (ohow >= TargetColumns / 2) return 1;
            return Math.Min(32, (TargetColumns + ohow - 1) / ohow);
        }

        /// <summary>Row length of a chunk's column matrix: samples × output pixels, padded to a multiple of 16 floats.</summary>
        private static long PaddedColumns(long columns) => (columns + 15) / 16 * 16;

        /// <summary>
        /// Scratch floats a convolution needs: the im2col matrix [C·KH·KW, ld] of a chunk, plus (when batched) the staged
        /// output / gathered output gradient [out channels, ld].
        /// </summary>
        public static long ConvScratch(ShapedLayer l)
        {
            long ohow = (long)l.Out.H * l.Out.W;
            return ConvChunk(l) == 1 ? ColumnRows(l) * ohow : StageOffset(l) + l.Spec.Out * PaddedColumns(ConvChunk(l) * ohow);
        }

        /// <summary>Rows of the im2col matrix: input channels × kernel taps.</summary>
        private static long ColumnRows(ShapedLayer l) => (long)l.In.C * l.Spec.KernelH * l.Spec.KernelW;

        /// <summary>Where a batched convolution's staging area starts in its scratch: after the chunk's im2col matrix.</summary>
        private static long StageOffset(ShapedLayer l) => ColumnRows(l) * PaddedColumns((long)ConvChunk(l) * l.Out.H * l.Out.W);

        private static void Conv(CodeWriter w, ShapedLayer l, string pre, bool relu, Variants variants)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, KO = s.Out, OH = l.Out.H, OW = l.Out.W, G = s.Groups;
            int CG = C / G, KG = KO / G, CKK = CG * s.KernelH * s.KernelW, OHOW = OH * OW;
            int wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            bool pointwise = IsPointwise(s);
            int chunk = ConvChunk(l);
            bool batched = chunk > 1;
            long stageOffset = StageOffset(l);
            string colExpr = pointwise ? "xb" : "col";

            bool forward = (variants & Variants.Forward) != 0, backward = (variants & Variants.Backward) != 0;
            if (forward)
            {
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
                {
                    if (batched)
                    {
                        w.Line($"if (n > 1) {{ {pre}_ForwardBatched(x, y, p, col, n); return; }}");
                    }
                    w.Line($"// per group: y[{KG}, {OHOW}] = W[{KG}, {CKK}] · col[{CKK}, {OHOW}]" + (pointwise ? " (1×1 kernel: col is x itself)" : ""));
                    using (w.Block("for (int b = 0; b < n; b++)"))
                    {
                        w.Line($"float* xb = x + b * {C * H * W};");
                        w.Line($"float* yb = y + b * {KO * OHOW};");
                        if (!pointwise) w.Line($"{pre}_Im2Col(xb, col, {OHOW});");
                        for (int g = 0; g < G; g++)
                        {
                            w.Line($"{K}Gemm.MultiplyNN({KG}, {OHOW}, {CKK}, p + {wOff + g * KG * CKK}, {CKK}, 1, {colExpr} + {g * CKK * OHOW}, {OHOW}, yb + {g * KG * OHOW}, {OHOW}, false);");
                        }
                        if (relu) w.Line($"{K}Ops.AddRowBiasRelu(yb, {(s.Bias ? $"p + {bOff}" : "null")}, {KO}, {OHOW}); // + bias, then the fused ReLU");
                        else if (s.Bias) w.Line($"{K}Ops.AddRowBias(yb, p + {bOff}, {KO}, {OHOW});");
                    }
                }
                w.Line();
                if (batched)
                {
                    w.Line($"// Up to {chunk} samples side by side: col[{C * s.KernelH * s.KernelW}, ld] holds sample t's patches in columns [t·{OHOW}, (t + 1)·{OHOW}),");
                    w.Line($"// ld = samples × {OHOW} rounded up to 16, so one GEMM per group spans the chunk; its output is staged as");
                    w.Line($"// [{KO}, ld] after col and copied out per sample.");
                    w.Line(Hot);
                    using (w.Block($"private static void {pre}_ForwardBatched(float* x, float* y, float* p, float* col, int n)"))
                    {
                        w.Line($"float* stage = col + {stageOffset};");
                        w.Line($"int chunks = (n + {chunk - 1}) / {chunk}; // near-equal chunks of at most {chunk} samples");
                        using (w.Block("for (int ci = 0; ci < chunks; ci++)"))
                        {
                            w.Line("int b0 = ci * n / chunks, s = (ci + 1) * n / chunks - b0;");
                            w.Line($"int ld = (s * {OHOW} + 15) & ~15;");
                            w.Line($"for (int t = 0; t < s; t++) {pre}_Im2Col(x + (b0 + t) * {C * H * W}, col + t * {OHOW}, ld);");
                            for (int g = 0; g < G; g++)
                            {
                                w.Line($"{K}Gemm.MultiplyNN({KG}, ld, {CKK}, p + {wOff + g * KG * CKK}, {CKK}, 1, col + {g * CKK} * ld, ld, stage + {g * KG} * ld, ld, false);");
                            }
                            using (w.Block("for (int t = 0; t < s; t++)"))
                            {
                                w.Line($"{K}Ops.CopyRowsBiasRelu(stage + t * {OHOW}, ld, y + (b0 + t) * {KO * OHOW}, {OHOW}, {KO}, {OHOW}, {(s.Bias ? $"p + {bOff}" : "null")}, {(relu ? "true" : "false")});" +
                                       (relu ? " // + bias, fused ReLU" : ""));
                            }
                        }
                    }
                    w.Line();
                }
            }
            if (backward)
            {
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
                {
                    if (batched)
                    {
                        w.Line($"// Chunks of up to {chunk} samples: dy gathered as stage[{KO}, ld] (padding columns zero), col as in the forward pass.");
                        w.Line($"float* stage = col + {stageOffset};");
                        w.Line($"int chunks = (n + {chunk - 1}) / {chunk}; // near-equal chunks of at most {chunk} samples");
                        using (w.Block("for (int ci = 0; ci < chunks; ci++)"))
                        {
                            w.Line("int b0 = ci * n / chunks, s = (ci + 1) * n / chunks - b0;");
                            w.Line($"int used = s * {OHOW}, ld = (used + 15) & ~15;");
                            w.Line($"for (int t = 0; t < s; t++) {pre}_Im2Col(x + (b0 + t) * {C * H * W}, col + t * {OHOW}, ld);");
                            if (relu)
                                w.Line($"for (int t = 0; t < s; t++) {K}Ops.CopyRowsReluBackward(dy + (b0 + t) * {KO * OHOW}, y + (b0 + t) * {KO * OHOW}, {OHOW}, stage + t * {OHOW}, ld, {KO}, {OHOW}); // the fused ReLU's backward: dy where y > 0");
                            else
                                w.Line($"for (int t = 0; t < s; t++) {K}Ops.CopyRows(dy + (b0 + t) * {KO * OHOW}, {OHOW}, stage + t * {OHOW}, ld, {KO}, {OHOW});");
                            using (w.Block("if (ld > used)"))
                            {
                                w.Line($"{K}Ops.ClearColumns(stage + used, ld, {KO}, ld - used);");
                                w.Line($"{K}Ops.ClearColumns(col + used, ld, {C * s.KernelH * s.KernelW}, ld - used);");
                            }
                            w.Line($"// dW[{KG}, {CKK}] += dy[{KG}, ld] · col[{CKK}, ld]ᵀ per group");
                            for (int g = 0; g < G; g++)
                            {
                                w.Line($"{K}Gemm.MultiplyNT({KG}, {CKK}, ld, stage + {g * KG} * ld, ld, col + {g * CKK} * ld, ld, g + {wOff + g * KG * CKK}, {CKK}, true);");
                            }
                            if (s.Bias) w.Line($"{K}Ops.AddRowSums(stage, g + {bOff}, {KO}, ld);");
                            using (w.Block("if (needDx)"))
                            {
                                w.Line($"// dcol[{CKK}, ld] = W[{KG}, {CKK}]ᵀ · dy[{KG}, ld] per group, then scattered back per sample (col2im)");
                                for (int g = 0; g < G; g++)
                                {
                                    w.Line($"{K}Gemm.MultiplyNN({CKK}, ld, {KG}, p + {wOff + g * KG * CKK}, 1, {CKK}, stage + {g * KG} * ld, ld, col + {g * CKK} * ld, ld, false);");
                                }
                                using (w.Block("for (int t = 0; t < s; t++)"))
                                {
                                    w.Line($"float* dxb = dx + (b0 + t) * {C * H * W};");
                                    w.Line($"new global::System.Span<float>(dxb, {C * H * W}).Clear();");
                                    w.Line($"{pre}_Col2Im(col + t * {OHOW}, dxb, ld);");
                                }
                            }
                        }
                    }
                    else
                    {
                        using (w.Block("for (int b = 0; b < n; b++)"))
                        {
                            w.Line($"float* xb = x + b * {C * H * W};");
                            w.Line($"float* dyb = dy + b * {KO * OHOW};");
                            if (relu) w.Line($"{K}Ops.ReluBackward(y + b * {KO * OHOW}, dyb, dyb, {KO * OHOW}); // the fused ReLU's backward, in place: dy where y > 0");
                            if (!pointwise) w.Line($"{pre}_Im2Col(xb, col, {OHOW});");
                            w.Line($"// dW[{KG}, {CKK}] += dy[{KG}, {OHOW}] · col[{CKK}, {OHOW}]ᵀ per group");
                            for (int g = 0; g < G; g++)
                            {
                                w.Line($"{K}Gemm.MultiplyNT({KG}, {CKK}, {OHOW}, dyb + {g * KG * OHOW}, {OHOW}, {colExpr} + {g * CKK * OHOW}, {OHOW}, g + {wOff + g * KG * CKK}, {CKK}, true);");
                            }
                            if (s.Bias) w.Line($"{K}Ops.AddRowSums(dyb, g + {bOff}, {KO}, {OHOW});");
                            using (w.Block("if (needDx)"))
                            {
                                w.Line($"float* dxb = dx + b * {C * H * W};");
                                w.Line($"// dcol[{CKK}, {OHOW}] = W[{KG}, {CKK}]ᵀ · dy[{KG}, {OHOW}] per group" + (pointwise ? ", written straight into dx" : ", then scattered back (col2im)"));
                                string target = pointwise ? "dxb" : "col";
                                for (int g = 0; g < G; g++)
                                {
                                    w.Line($"{K}Gemm.MultiplyNN({CKK}, {OHOW}, {KG}, p + {wOff + g * KG * CKK}, 1, {CKK}, dyb + {g * KG * OHOW}, {OHOW}, {target} + {g * CKK * OHOW}, {OHOW}, false);");
                                }
                                if (!pointwise)
                                {
                                    w.Line($"new global::System.Span<float>(dxb, {C * H * W}).Clear();");
                                    w.Line($"{pre}_Col2Im(col, dxb, {OHOW});");
                                }
                            }
                        }
                    }
                }
            }
            if (pointwise && !batched || !forward && !backward) return;
            w.Line();
            w.Line($"// col[(c·{s.KernelH} + i)·{s.KernelW} + j, oh·{OW} + ow] = x[c, oh·{s.StrideH} − {s.PadH} + i·{s.DilationH}, ow·{s.StrideW} − {s.PadW} + j·{s.DilationW}], 0 in the padding; rows ld apart");
            TapLoops(w, l, pre + "_Im2Col(float* x, float* col, int ld)", gather: true);
            if (!backward) return; // col2im is backward's
            w.Line();
            w.Line("// The adjoint of im2col: x[c, ih, iw] += col[...] for every tap that read it (x cleared by the caller).");
            TapLoops(w, l, pre + "_Col2Im(float* col, float* x, int ld)", gather: false);
        }

        private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);
        private static int CeilDiv(int a, int b) => -FloorDiv(-a, b);

        /// <summary>Valid output range [lo, hi) along one axis for kernel tap t.</summary>
        private static (int Lo, int Hi) Range(int outSize, int inSize, int stride, int pad, int dil, int t)
        {
            int offset = t * dil - pad; // input index = o·stride + offset
            int lo = Math.Max(0, CeilDiv(-offset, stride));
            int hi = Math.Min(outSize, FloorDiv(inSize - 1 - offset, stride) + 1);
            return (lo, Math.Max(lo, hi));
        }

        private static void TapLoops(CodeWriter w, ShapedLayer l, string signature, bool gather)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W, KH = s.KernelH, KW = s.KernelW;
            w.Line(Hot);
            using (w.Block($"private static void {signature}"))
            {
                using (w.Block($"for (int c = 0; c < {C}; c++)"))
                {
                    w.Line($"float* xc = x + c * {H * W};");
                    w.Line($"float* cc = col + c * {KH * KW} * ld;");
                    for (int i = 0; i < KH; i++)
                    {
                        var (ohLo, ohHi) = Range(OH, H, s.StrideH, s.PadH, s.DilationH, i);
                        for (int j = 0; j < KW; j++)
                        {
                            var (owLo, owHi) = Range(OW, W, s.StrideW, s.PadW, s.DilationW, j);
                            string row = i * KW + j == 0 ? "cc" : i * KW + j == 1 ? "cc + ld" : $"cc + {i * KW + j} * ld";
                            int len = owHi - owLo;
                            w.Line($"// tap ({i}, {j}): rows [{ohLo}, {ohHi}), columns [{owLo}, {owHi}) read the input; the rest is padding");
                            bool none = ohHi <= ohLo || len <= 0;
                            if (none)
                            {
                                if (gather) w.Line($"new global::System.Span<float>({row}, {OH * OW}).Clear();");
                                continue;
                            }
                            using (w.Block(""))
                            {
                                w.Line($"float* r = {row};");
                                if (gather && ohLo > 0) w.Line($"new global::System.Span<float>(r, {ohLo * OW}).Clear();");
                                if (gather && ohHi < OH) w.Line($"new global::System.Span<float>(r + {ohHi * OW}, {(OH - ohHi) * OW}).Clear();");
                                using (w.Block($"for (int oh = {ohLo}; oh < {ohHi}; oh++)"))
                                {
                                    int colOffset = owLo * s.StrideW + j * s.DilationW - s.PadW;
                                    int rowOffset = i * s.DilationH - s.PadH;
                                    w.Line($"float* src = xc + (oh * {s.StrideH} + {rowOffset}) * {W} + {colOffset};");
                                    w.Line($"float* dst = r + oh * {OW} + {owLo};");
                                    if (gather && owLo > 0) w.Line($"new global::System.Span<float>(dst - {owLo}, {owLo}).Clear();");
                                    if (gather && owHi < OW) w.Line($"new global::System.Span<float>(dst + {len}, {OW - owHi}).Clear();");
                                    Transfer(w, len, s.StrideW, gather);
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Copies (gather: dst[q] = src[q·stride]) or accumulates back (src[q·stride] += dst[q]) a run of constant length.</summary>
        private static void Transfer(CodeWriter w, int len, int stride, bool gather)
        {
            if (stride == 1 && len > 64)
            {
                if (gather) w.Line($"global::System.Runtime.CompilerServices.Unsafe.CopyBlockUnaligned(dst, src, {len * 4});");
                else w.Line($"{K}Ops.AddTo(src, dst, {len});");
                return;
            }
            if (stride == 1 && gather && len > 8 && len % 8 != 0)
            {
                // Whole vectors, the last one overlapping the one before it (it rewrites a few equal values): no scalar tail.
                const string V256 = "Vector256";
                for (int q = 0; q + 8 <= len; q += 8) w.Line($"{V256}.Store({V256}.Load(src + {q}), dst + {q});");
                w.Line($"{V256}.Store({V256}.Load(src + {len - 8}), dst + {len - 8}); // overlaps the previous vector");
                return;
            }
            if (stride == 1 && gather && len > 4 && len < 8)
            {
                const string V128 = "Vector128";
                w.Line($"{V128}.Store({V128}.Load(src), dst);");
                w.Line($"{V128}.Store({V128}.Load(src + {len - 4}), dst + {len - 4}); // overlaps the first vector");
                return;
            }
            if (stride == 1)
            {
                int q = 0;
                for (; q + 8 <= len; q += 8)
                {
                    if (gather) w.Line($"Vector256.Store(Vector256.Load(src + {q}), dst + {q});");
                    else w.Line($"Vector256.Store(Vector256.Load(src + {q}) + Vector256.Load(dst + {q}), src + {q});");
                }
                for (; q + 4 <= len; q += 4)
                {
                    if (gather) w.Line($"Vector128.Store(Vector128.Load(src + {q}), dst + {q});");
                    else w.Line($"Vector128.Store(Vector128.Load(src + {q}) + Vector128.Load(dst + {q}), src + {q});");
                }
                for (; q < len; q++) w.Line(gather ? $"dst[{q}] = src[{q}];" : $"src[{q}] += dst[{q}];");
                return;
            }
            if (len <= 16)
            {
                for (int q = 0; q < len; q++) w.Line(gather ? $"dst[{q}] = src[{q * stride}];" : $"src[{q * stride}] += dst[{q}];");
                return;
            }
            w.Line(gather ? $"for (int q = 0; q < {len}; q++) dst[q] = src[q * {stride}];" : $"for (int q = 0; q < {len}; q++) src[q * {stride}] += dst[q];");
        }

        // ================================ Pooling ================================
        private static void MaxPool(CodeWriter w, ShapedLayer l, string pre, Variants variants)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            const string V = "Vector256";
            bool forward = (variants & Variants.Forward) != 0, backward = (variants & Variants.Backward) != 0;
            if (forward)
            {
                w.Line("// One output, scalar (without AVX2). PyTorch semantics: padding is never selected, the first valid element starts the");
                w.Line("// window (so an all -inf window selects its first element), a later one wins if greater, NaN wins.");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                using (w.Block($"private static float {pre}_One(float* xc, int oh, int ow, out int at)"))
                {
                    w.Line("float best = float.NegativeInfinity;");
                    w.Line("at = -1;");
                    for (int i = 0; i < s.KernelH; i++)
                    {
                        using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                        {
                            w.Line($"int rowStart = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W};");
                            for (int j = 0; j < s.KernelW; j++)
                            {
                                w.Line($"{{ int iw = ow * {s.StrideW} + {j * s.DilationW - s.PadW}; if ((uint)iw < {W}u) {{ float v = xc[rowStart + iw]; bool take = (v > best) | float.IsNaN(v) | (at < 0); best = take ? v : best; at = take ? rowStart + iw : at; }} }}");
                            }
                        }
                    }
                    w.Line("return best;");
                }
                w.Line();
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
                {
                    if (s.KernelH == 2 && s.KernelW == 2 && s.StrideH == 2 && s.StrideW == 2 && s.DilationH == 1 && s.DilationW == 1 && s.PadH <= 1 && s.PadW <= 1)
                    {
                        w.Line("// Inference (no argmax to keep): row pairs max-ed element-wise, then column pairs, 8 outputs at a time.");
                        w.Line($"if (!training) {{ {K}Ops.MaxPool2x2(x, y, n * {C}, {H}, {W}, {OH}, {OW}, {s.PadH}, {s.PadW}); return; }}");
                    }
                    w.Line("// With AVX2: 8 outputs of a row at a time; masked gathers read padding (and lanes past the row) as -inf,");
                    w.Line("// masked stores write only the row's own outputs. Otherwise one output at a time.");
                    using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                    {
                        w.Line($"float* xc = x + bc * {H * W};");
                        w.Line($"float* yc = y + bc * {OH * OW};");
                        w.Line($"int* ic = training ? idx + bc * {OH * OW} : null;");
                        var (pairLo, pairHi) = PairInterior(l);
                        if (pairHi - pairLo >= 8)
                        {
                            PairedMaxPoolRows(w, l, pre, pairLo, pairHi);
                        }
                        else using (w.Block("if (Avx2.IsSupported)"))
                        {
                            w.Line($"var ninf = {V}.Create(float.NegativeInfinity);");
                            using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                            using (w.Block($"for (int ow = 0; ow < {OW}; ow += 8)"))
                            {
                                w.Line($"var lane = {V}.Create(ow) + {V}.Create(0, 1, 2, 3, 4, 5, 6, 7);");
                                w.Line($"var inRow = {V}.LessThan(lane, {V}.Create({OW}));");
                                w.Line($"var cols = lane * {s.StrideW};");
                                w.Line("var best = ninf;");
                                w.Line($"var at = {V}.Create(-1);");
                                for (int i = 0; i < s.KernelH; i++)
                                {
                                    using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                                    {
                                        w.Line($"int rowStart = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W};");
                                        for (int j = 0; j < s.KernelW; j++)
                                        {
                                            int off = j * s.DilationW - s.PadW;
                                            w.Line("{");
                                            w.Line($"    var iw = cols + {V}.Create({off});");
                                            w.Line($"    var ok = inRow & {V}.GreaterThanOrEqual(iw, {V}<int>.Zero) & {V}.LessThan(iw, {V}.Create({W}));");
                                            w.Line($"    var ix = iw + {V}.Create(rowStart);");
                                            w.Line($"    var v = Avx2.GatherMaskVector256(ninf, xc, ix, {V}.AsSingle(ok), 4);");
                                            w.Line($"    var take = ({V}.GreaterThan(v, best) | ~{V}.Equals(v, v) | {V}.AsSingle({V}.LessThan(at, {V}<int>.Zero))) & {V}.AsSingle(ok);");
                                            w.Line($"    best = {V}.ConditionalSelect(take, v, best);");
                                            w.Line($"    at = {V}.ConditionalSelect({V}.AsInt32(take), ix, at);");
                                            w.Line("}");
                                        }
                                    }
                                }
                                using (w.Block($"if (ow + 8 <= {OW})"))
                                {
                                    w.Line($"{V}.Store(best, yc + oh * {OW} + ow);");
                                    w.Line($"if (ic != null) {V}.Store(at, ic + oh * {OW} + ow);");
                                }
                                using (w.Block("else"))
                                {
                                    w.Line($"Avx.MaskStore(yc + oh * {OW} + ow, {V}.AsSingle(inRow), best);");
                                    w.Line($"if (ic != null) Avx2.MaskStore(ic + oh * {OW} + ow, inRow, at);");
                                }
                            }
                        }
                        using (w.Block("else"))
                        {
                            using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                            {
                                w.Line($"for (int ow = 0; ow < {OW}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                            }
                        }
                    }
                }
            }
            if (forward && backward) w.Line();
            if (backward)
            {
                w.Line(Hot);
                using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
                {
                    w.Line("if (!needDx) return;");
                    w.Line($"new global::System.Span<float>(dx, n * {C * H * W}).Clear();");
                    using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                    {
                        w.Line($"float* dxc = dx + bc * {H * W};");
                        w.Line($"float* dyc = dy + bc * {OH * OW};");
                        w.Line($"int* ic = idx + bc * {OH * OW};");
                        w.Line($"for (int o = 0; o < {OH * OW}; o++) dxc[ic[o]] += dyc[o];");
                    }
                }
            }
        }

        /// <summary>
        /// For a max pool whose windows are two adjacent columns two apart (kernel width 2, stride 2, no dilation): the
        /// outputs [lo, hi) of a row whose both columns are inside the input. Otherwise an empty range.
        /// </summary>
        private static (int Lo, int Hi) PairInterior(ShapedLayer l)
        {
            var s = l.Spec;
            if (s.KernelW != 2 || s.StrideW != 2 || s.DilationW != 1) return (0, 0);
            var (lo0, hi0) = Range(l.Out.W, l.In.W, 2, s.PadW, 1, 0);
            var (lo1, hi1) = Range(l.Out.W, l.In.W, 2, s.PadW, 1, 1);
            int lo = Math.Max(lo0, lo1), hi = Math.Min(hi0, hi1);
            return hi > lo ? (lo, hi) : (0, 0);
        }

        /// <summary>
        /// Max pooling over column pairs without gathers: 16 contiguous inputs of a window row give 8 outputs, split into
        /// their even and odd columns (shuffle + permute); a last, overlapping group of 8 covers the end of the range
        /// (recomputing outputs already written, with the same values); border outputs go one at a time.
        /// </summary>
        private static void PairedMaxPoolRows(CodeWriter w, ShapedLayer l, string pre, int lo, int hi)
        {
            var s = l.Spec;
            int H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            const string V = "Vector256";
            const string X86 = "";
            using (w.Block($"if ({X86}Avx2.IsSupported)"))
            {
                w.Line($"var lane2 = {V}.Create(0, 2, 4, 6, 8, 10, 12, 14);");
                using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                {
                    if (lo > 0 || hi < OW)
                    {
                        w.Line($"// outputs whose window reaches into the padding");
                        w.Line($"for (int ow = 0; ow < {lo}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                        w.Line($"for (int ow = {hi}; ow < {OW}; ow++) {{ yc[oh * {OW} + ow] = {pre}_One(xc, oh, ow, out int a); if (ic != null) ic[oh * {OW} + ow] = a; }}");
                    }
                    using (w.Block($"for (int ow = {lo}; ow < {hi}; ow += 8)"))
                    {
                        w.Line($"if (ow + 8 > {hi}) ow = {hi - 8};");
                        w.Line($"var best = {V}.Create(float.NegativeInfinity);");
                        w.Line($"var at = {V}.Create(-1);");
                        for (int i = 0; i < s.KernelH; i++)
                        {
                            using (w.Block($"if ((uint)(oh * {s.StrideH} + {i * s.DilationH - s.PadH}) < {H}u)"))
                            {
                                w.Line($"int start = (oh * {s.StrideH} + {i * s.DilationH - s.PadH}) * {W} + ow * 2 - {s.PadW};");
                                w.Line($"var v0 = {V}.Load(xc + start);");
                                w.Line($"var v1 = {V}.Load(xc + start + 8);");
                                w.Line($"var even = {V}.AsSingle({X86}Avx2.Permute4x64({V}.AsDouble({X86}Avx.Shuffle(v0, v1, 0x88)), 0xD8));");
                                w.Line($"var odd = {V}.AsSingle({X86}Avx2.Permute4x64({V}.AsDouble({X86}Avx.Shuffle(v0, v1, 0xDD)), 0xD8));");
                                w.Line($"var ix = lane2 + {V}.Create(start);");
                                foreach (var (v, off) in new[] { ("even", ""), ("odd", " + Vector256<int>.One") })
                                {
                                    w.Line($"{{ var take = {V}.GreaterThan({v}, best) | ~{V}.Equals({v}, {v}) | {V}.AsSingle({V}.LessThan(at, {V}<int>.Zero)); best = {V}.ConditionalSelect(take, {v}, best); at = {V}.ConditionalSelect({V}.AsInt32(take), ix{off.Replace("Vector256", V)}, at); }}");
                                }
                            }
                        }
                        w.Line($"{V}.Store(best, yc + oh * {OW} + ow);");
                        w.Line($"if (ic != null) {V}.Store(at, ic + oh * {OW} + ow);");
                    }
                }
            }
        }

        private static void AvgPool(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            string inv = F(1.0 / (s.KernelH * s.KernelW));
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// count_include_pad=True: every window divides by {s.KernelH}·{s.KernelW}.");
                AvgPoolWindows(w, l, "x", "y", "float sum = 0;", "sum += xc[rowStart + iw];", $"yc[oh * {OW} + ow] = sum * {inv};");
            }
            w.Line();
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
            {
                w.Line("if (!needDx) return;");
                w.Line($"new global::System.Span<float>(dx, n * {C * H * W}).Clear();");
                AvgPoolWindows(w, l, "dx", "dy", $"float d = yc[oh * {OW} + ow] * {inv};", "xc[rowStart + iw] += d;", null);
            }
        }

        /// <summary>
        /// The loops over every window of an average pooling, shared by forward (gather: sum the taps) and
        /// backward (scatter: spread the gradient over the taps). xc/yc point at one channel of <paramref name="x"/>/<paramref name="y"/>.
        /// </summary>
        private static void AvgPoolWindows(CodeWriter w, ShapedLayer l, string x, string y, string before, string tap, string? after)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W;
            using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
            {
                w.Line($"float* xc = {x} + bc * {H * W};");
                w.Line($"float* yc = {y} + bc * {OH * OW};");
                using (w.Block($"for (int oh = 0; oh < {OH}; oh++)"))
                using (w.Block($"for (int ow = 0; ow < {OW}; ow++)"))
                {
                    w.Line(before);
                    for (int i = 0; i < s.KernelH; i++)
                    {
                        using (w.Block($"if ((uint)(oh * {s.StrideH} + {i - s.PadH}) < {H}u)"))
                        {
                            w.Line($"int rowStart = (oh * {s.StrideH} + {i - s.PadH}) * {W};");
                            for (int j = 0; j < s.KernelW; j++)
                                w.Line($"{{ int iw = ow * {s.StrideW} + {j - s.PadW}; if ((uint)iw < {W}u) {tap} }}");
                        }
                    }
                    if (after != null) w.Line(after);
                }
            }
        }

        // ================================ Linear ================================
        private static void Linear(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int I = s.In, O = s.Out, wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// y[n, {O}] = x[n, {I}] · W[{O}, {I}]ᵀ" + (s.Bias ? " + b" : ""));
                w.Line($"{K}Gemm.MultiplyNT(n, {O}, {I}, x, {I}, p + {wOff}, {I}, y, {O}, false);");
                if (s.Bias) w.Line($"{K}Ops.AddColumnBias(y, p + {bOff}, n, {O});");
            }
            w.Line();
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
            {
                w.Line($"// dW[{O}, {I}] += dy[n, {O}]ᵀ · x[n, {I}]");
                w.Line($"{K}Gemm.MultiplyNN({O}, {I}, n, dy, 1, {O}, x, {I}, g + {wOff}, {I}, true);");
                if (s.Bias) w.Line($"{K}Ops.AddColumnSums(dy, g + {bOff}, n, {O});");
                w.Line($"// dx[n, {I}] = dy[n, {O}] · W[{O}, {I}]");
                w.Line($"if (needDx) {K}Gemm.MultiplyNN(n, {I}, {O}, dy, {O}, 1, p + {wOff}, {I}, dx, {I}, false);");
            }
        }

        // ================================ Depthwise Conv2d ================================
        /// <summary>Groups == in channels == out channels: one filter per channel, computed directly (no im2col, no GEMM).</summary>
        public static bool IsDepthwise(LayerSpec s) => s.Kind == LayerKind.Conv2d && s.Groups > 1 && s.Groups == s.In && s.In == s.Out;

        private static void DepthwiseConv(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W, KH = s.KernelH, KW = s.KernelW;
            int wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            w.Line("// Depthwise (groups = channels): each channel is convolved with its own filter, tap by tap over the");
            w.Line("// output rows each tap reaches (ranges resolved at compile time, padding never read).");
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                {
                    w.Line($"int c = bc % {C};");
                    w.Line($"float* xc = x + bc * {H * W};");
                    w.Line($"float* yc = y + bc * {OH * OW};");
                    w.Line($"float* wc = p + {wOff} + c * {KH * KW};");
                    w.Line(s.Bias ? $"new global::System.Span<float>(yc, {OH * OW}).Fill(p[{bOff} + c]);" : $"new global::System.Span<float>(yc, {OH * OW}).Clear();");
                    DepthwiseTaps(w, l, (len, stride) => stride == 1
                        ? $"{L}Axpy(dst, src, wt, {len});"
                        : $"for (int q = 0; q < {len}; q++) dst[q] = global::System.MathF.FusedMultiplyAdd(src[q * {stride}], wt, dst[q]);");
                }
            }
            w.Line();
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Backward({BackwardParams})"))
            {
                if (s.Bias) w.Line($"for (int b = 0; b < n; b++) {K}Ops.AddRowSums(dy + b * {C * OH * OW}, g + {bOff}, {C}, {OH * OW});");
                w.Line($"if (needDx) new global::System.Span<float>(dx, n * {C * H * W}).Clear();");
                using (w.Block($"for (int bc = 0; bc < n * {C}; bc++)"))
                {
                    w.Line($"int c = bc % {C};");
                    w.Line($"float* xc = x + bc * {H * W};");
                    w.Line($"float* dyc = dy + bc * {OH * OW};");
                    w.Line($"float* dxc = dx + bc * {H * W};");
                    w.Line($"float* wc = p + {wOff} + c * {KH * KW};");
                    w.Line($"float* gc = g + {wOff} + c * {KH * KW};");
                    w.Line("// dW[c, tap] += Σ dy·x over the tap's reach; dx[c] += W[c, tap]·dy scattered back");
                    DepthwiseTaps(w, l, (len, stride) => stride == 1
                        ? $"gsum += {K}Gemm.Dot(d, src, {len}); if (needDx) {L}Axpy(srcDx, d, wt, {len});"
                        : $"for (int q = 0; q < {len}; q++) {{ gsum += d[q] * src[q * {stride}]; if (needDx) srcDx[q * {stride}] += wt * d[q]; }}",
                        backward: true);
                }
            }
        }

        /// <summary>For each tap (i, j): the output rows and columns it reaches, as a run per row; <paramref name="run"/> writes one run.</summary>
        private static void DepthwiseTaps(CodeWriter w, ShapedLayer l, Func<int, int, string> run, bool backward = false)
        {
            var s = l.Spec;
            int H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W, KW = s.KernelW;
            for (int i = 0; i < s.KernelH; i++)
            {
                var (ohLo, ohHi) = Range(OH, H, s.StrideH, s.PadH, s.DilationH, i);
                for (int j = 0; j < KW; j++)
                {
                    var (owLo, owHi) = Range(OW, W, s.StrideW, s.PadW, s.DilationW, j);
                    int len = owHi - owLo;
                    if (ohHi <= ohLo || len <= 0)
                    {
                        w.Line($"// tap ({i}, {j}) only reads padding");
                        continue;
                    }
                    int colOffset = owLo * s.StrideW + j * s.DilationW - s.PadW;
                    int rowOffset = i * s.DilationH - s.PadH;
                    using (w.Block($"// tap ({i}, {j}): output rows [{ohLo}, {ohHi}), columns [{owLo}, {owHi})"))
                    {
                        w.Line($"float wt = wc[{i * KW + j}];");
                        if (backward) w.Line("float gsum = 0;");
                        using (w.Block($"for (int oh = {ohLo}; oh < {ohHi}; oh++)"))
                        {
                            w.Line($"float* src = xc + (oh * {s.StrideH} + {rowOffset}) * {W} + {colOffset};");
                            if (backward)
                            {
                                w.Line($"float* srcDx = dxc + (oh * {s.StrideH} + {rowOffset}) * {W} + {colOffset};");
                                w.Line($"float* d = dyc + oh * {OW} + {owLo};");
                            }
                            else w.Line($"float* dst = yc + oh * {OW} + {owLo};");
                            w.Line(run(len, s.StrideW));
                        }
                        if (backward) w.Line($"gc[{i * KW + j}] += gsum;");
                    }
                }
            }
        }

        // ================================ BatchNorm2d ================================
        /// <summary>
        /// BatchNorm2d has its own signatures: inference reads the running statistics (rb: running_mean [C],
        /// running_var [C], num_batches_tracked [1]); training normalizes with the batch's statistics, saves them in
        /// stats [2C] and updates rb when asked.
        /// </summary>
        private static void BatchNorm(CodeWriter w, ShapedLayer l, string pre, Variants variants)
        {
            var s = l.Spec;
            int C = l.In.C, HW = l.In.H * l.In.W;
            string gamma = s.Bias ? $"p + {l.ParamOffset}" : "null";
            string beta = s.Bias ? $"p + {l.ParamOffset + l.WeightCount}" : "null";
            string eps = F(s.Value), momentum = F(s.Momentum);
            if ((variants & Variants.Inference) == 0)
            {
                w.Line("// Inference: folded into the convolution before it (FoldBatchNorm), so it has no inference method.");
            }
            else
            {
                w.Line($"// Inference: running statistics; y = (x − running_mean)/√(running_var + {eps})" + (s.Bias ? "·γ + β" : "") + ". x and y may alias.");
                w.Line($"private static void {pre}_Inference(float* x, float* y, float* p, float* rb, int n) =>");
                w.Line($"    {L}BatchNormInference(x, y, {gamma}, {beta}, rb, rb + {C}, n, {C}, {HW}, {eps});");
            }
            w.Line();
            w.Line($"// Training: the batch's mean and biased variance over (n, {l.In.H}, {l.In.W}); running statistics move by momentum {momentum} (unbiased variance) when update is set.");
            w.Line($"private static void {pre}_Forward(float* x, float* y, float* p, float* rb, float* stats, int n, bool update) =>");
            w.Line($"    {L}BatchNormTrainForward(x, y, {gamma}, {beta}, rb, rb + {C}, rb + {2 * C}, stats, n, {C}, {HW}, {eps}, {momentum}, update);");
            w.Line();
            w.Line($"private static void {pre}_Backward(float* x, float* dy, float* dx, float* p, float* g, float* stats, int n, bool needDx) =>");
            w.Line($"    {L}BatchNormTrainBackward(x, dy, dx, {gamma}, {(s.Bias ? $"g + {l.ParamOffset}" : "null")}, {(s.Bias ? $"g + {l.ParamOffset + l.WeightCount}" : "null")}, stats, n, {C}, {HW}, needDx);");
        }

        // ================================ Global average pooling, Identity ================================
        private static void GlobalAvgPool(CodeWriter w, ShapedLayer l, string pre)
        {
            int C = l.In.C, HW = l.In.H * l.In.W;
            w.Line($"// y[n, {C}, 1, 1] = the mean of each {l.In.H}×{l.In.W} plane");
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {L}GlobalAvgPool(x, y, n * {C}, {HW});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {L}GlobalAvgPoolBackward(dy, dx, n * {C}, {HW});");
            w.Line("}");
        }

        private static void Identity(CodeWriter w, ShapedLayer l, string pre)
        {
            int size = l.Out.Size;
            w.Line("// Training only (inference skips it): y = x, dx = dy.");
            w.Line($"private static void {pre}_Forward({ForwardParams}) => new global::System.Span<float>(x, n * {size}).CopyTo(new global::System.Span<float>(y, n * {size}));");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) new global::System.Span<float>(dy, n * {size}).CopyTo(new global::System.Span<float>(dx, n * {size}));");
            w.Line("}");
        }

        // ================================ Element-wise ================================
        /// <summary>An element-wise activation: its runtime kernels come from its row of the capability table.</summary>
        private static void Elementwise(CodeWriter w, ShapedLayer l, string pre)
        {
            var kernels = Kernels.LayerTable.Of(l).Activation ?? throw new InvalidOperationException("not element-wise: " + l.Spec.Kind);
            if (l.Spec.Approximate == "tanh" && kernels.Tanh is { } tanh) kernels = tanh;
            string count = $"n * {l.Out.Size}";
            string value = kernels.TakesValue ? ", " + F(l.Spec.Value) : "";
            string saved = kernels.Reads switch { Kernels.BackwardReads.Output => "y", Kernels.BackwardReads.Input => "x", _ => "x, y" };
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {kernels.Class}.{kernels.Forward}(x, y, {count}{value});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {kernels.Class}.{kernels.Backward}({saved}, dy, dx, {count}{value});");
            w.Line("}");
        }

        private static void SoftmaxLike(CodeWriter w, ShapedLayer l, string pre)
        {
            string name = l.Spec.Kind == LayerKind.Softmax ? "Softmax" : "LogSoftmax";
            int f = l.Out.Size;
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {K}Ops.{name}(x, y, n, {f});");
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {K}Ops.{name}Backward(y, dy, dx, n, {f});");
            w.Line("}");
        }

        private static void Dropout(CodeWriter w, ShapedLayer l, string pre)
        {
            int groups = MemoryPlan.DropoutGroups(l);
            int groupSize = l.Out.Size / groups;
            string what = l.Spec.Kind == LayerKind.Dropout2d ? "whole channels" : "elements";
            w.Line(Hot);
            using (w.Block($"private static void {pre}_Forward({ForwardParams})"))
            {
                w.Line($"// Training: drop {what} with p = {Text.Number(l.Spec.Value)}, scale the rest by 1/(1 - p). Inference never calls this (identity).");
                using (w.Block("if (ws != null && ws.DropoutEnabled)"))
                {
                    w.Line($"{K}Ops.DropoutForward(x, y, mask, n * {groups}, {groupSize}, {F(l.Spec.Value)}, ws.Rng);");
                }
                using (w.Block("else"))
                {
                    w.Line($"new global::System.Span<float>(x, n * {l.Out.Size}).CopyTo(new global::System.Span<float>(y, n * {l.Out.Size}));");
                    w.Line($"new global::System.Span<float>(mask, n * {groups}).Fill(1f);");
                }
            }
            w.Line();
            w.Line($"private static void {pre}_Backward({BackwardParams})");
            w.Line("{");
            w.Line($"    if (needDx) {K}Ops.DropoutBackward(mask, dy, dx, n * {groups}, {groupSize});");
            w.Line("}");
        }
    }
}
