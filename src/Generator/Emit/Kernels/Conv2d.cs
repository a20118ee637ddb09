using System;
using System.Globalization;
using CnnGen.Generator.Emit.Plan;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit
{
    /// <summary>Conv2d: im2col + GEMM (grouped and 1×1 forms, batched chunks), and the depthwise form; forward and backward side by side. The channels-last forms are in ChannelsLast / ChannelsLastTraining.</summary>
    internal static partial class LayerEmitter
    {
        private static bool IsPointwise(LayerSpec s) =>
            s.KernelH == 1 && s.KernelW == 1 && s.StrideH == 1 && s.StrideW == 1 && s.PadH == 0 && s.PadW == 0;

        /// <summary>
        /// Dense convolutions (no groups, no dilation, not 1×1 with stride 1, which needs no im2col) over at least 256 output
        /// pixels (ResNet's stem, its 3×3 and strided convolutions): their forward pass is the runtime's im2col-free
        /// <c>DirectConv.Forward</c>, bias and activation applied as it copies the output out (a <c>_Run</c> method, as
        /// depthwise convolutions have, which folded batch norm calls with W', b' and the activation). Smaller outputs are
        /// batched into wide GEMMs instead (<see cref="ConvChunk"/>); backward keeps im2col.
        /// </summary>
        public static bool RunsDirect(ShapedLayer l)
        {
            var s = l.Spec;
            return s.Kind == LayerKind.Conv2d && s.Groups == 1 && s.DilationH == 1 && s.DilationW == 1 && !IsPointwise(s) && ConvChunk(l) == 1 &&
                   ((long)l.In.C * s.KernelH * s.KernelW >= MinDirectRows && s.Out >= MinDirectChannels || (long)l.Out.H * l.Out.W >= LargeImagePixels);
        }

        /// <summary>
        /// Output pixels from which a convolution runs direct whatever its rows and channels: an ImageNet stem (EfficientNet's
        /// RGB 3×3/2 to 32 channels at 112²: `--conv3x3 3,224,224,32,3,2,1` direct 132 GFLOP/s, im2col + GEMM 95), where the
        /// im2col matrix itself is megabytes.
        /// </summary>
        private const int LargeImagePixels = 4096;

        /// <summary>
        /// 1×1 convolutions (stride 1, no padding, no groups) over at least 256 output pixels (EfficientNet's expansions and
        /// projections at 112², 56², 28²): a product per sample whose last stores add the bias and apply the activation
        /// (<c>Gemm.MultiplyNNBiasAct</c>), through a <c>_Run</c> like the direct ones, so the output is written once.
        /// </summary>
        public static bool RunsPointwise(ShapedLayer l) => l.Spec.Kind == LayerKind.Conv2d && l.Spec.Groups == 1 && IsPointwise(l.Spec) && ConvChunk(l) == 1;

        /// <summary>
        /// Product rows (in channels × taps) from which the direct form pays: below it (an RGB input's 3×3, K = 27) each
        /// tile's few multiply-adds per store make the padded columns and the copy-out cost more than im2col saves.
        /// </summary>
        private const int MinDirectRows = 64;

        /// <summary>
        /// Output channels from which the direct form runs (ResNet-class widths). Measured: the CIFAR ResNet's 16- and
        /// 32-channel convolutions, faster direct in isolation (`--conv3x3`), made the whole model 5–8% slower at batch 8.
        /// </summary>
        private const int MinDirectChannels = 64;

        /// <summary>Whether the convolution's forward code is a <c>_Run(x, y, w, b, n, act)</c> that adds the bias and applies the activation itself.</summary>
        public static bool HasRun(ShapedLayer l) => IsDepthwise(l.Spec) || RunsDirect(l) || RunsPointwise(l);

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
        private static long PaddedColumns(long columns) => Alignment.Up(columns);

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
            bool direct = RunsDirect(l);
            if (forward && (direct || RunsPointwise(l)))
            {
                w.Line(direct
                    ? $"// The im2col-free kernel (the padded input's rows read in place), bias{(relu ? " and the fused ReLU" : "")} applied in its"
                    : $"// 1×1: y[{KO}, {OHOW}] = W[{KO}, {C}] · x[{C}, {OHOW}] per sample, the bias{(relu ? " and the fused ReLU" : "")} applied in the product's");
                w.Line((direct ? "// copy-out" : "// last stores") + "; _Run takes the weights, the bias (or null) and the activation (0 none, 1 ReLU, 2 SiLU):");
                w.Line("// inference passes the folded W', b' and the activation after the batch norm.");
                w.Line($"private static void {pre}_Forward({ForwardParams}) =>");
                w.Line($"    {pre}_Run(x, y, p + {wOff}, {(s.Bias ? $"p + {bOff}" : "null")}, n, {(relu ? 1 : 0)});");
                w.Line();
                w.Line(Hot);
                w.Line($"private static void {pre}_Run(float* x, float* y, float* w, float* b, int n, int act) =>");
                w.Line(direct
                    ? $"    {K}DirectConv.Forward(x, y, w, b, n, {C}, {H}, {W}, {KO}, {s.KernelH}, {s.KernelW}, {s.StrideH}, {s.StrideW}, {s.PadH}, {s.PadW}, act);"
                    : $"    {K}Gemm.Conv1x1(n, {KO}, {OHOW}, {C}, w, x, y, b, act);");
                w.Line();
                if ((variants & Variants.ScaledRun) != 0)
                {
                    w.Line("// Inference with the batch norm after it applied in the same store: act(conv(x; W)·s[c] + t[c]).");
                    w.Line(Hot);
                    w.Line($"private static void {pre}_RunScaled(float* x, float* y, float* w, float* s, float* t, int n, int act) =>");
                    w.Line(direct
                        ? $"    {K}DirectConv.Forward(x, y, w, s, t, n, {C}, {H}, {W}, {KO}, {s.KernelH}, {s.KernelW}, {s.StrideH}, {s.StrideW}, {s.PadH}, {s.PadW}, act);"
                        : $"    {K}Gemm.Conv1x1(n, {KO}, {OHOW}, {C}, w, x, y, s, t, act);");
                    w.Line();
                }
            }
            else if (forward)
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
            if (pointwise && !batched || !backward && (!forward || direct)) return;
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

        /// <summary>Groups == in channels == out channels: one filter per channel, computed directly (no im2col, no GEMM).</summary>
        public static bool IsDepthwise(LayerSpec s) => s.Kind == LayerKind.Conv2d && s.Groups > 1 && s.Groups == s.In && s.In == s.Out;

        private static void DepthwiseConv(CodeWriter w, ShapedLayer l, string pre)
        {
            var s = l.Spec;
            int C = l.In.C, H = l.In.H, W = l.In.W, OH = l.Out.H, OW = l.Out.W, KH = s.KernelH, KW = s.KernelW;
            int wOff = l.ParamOffset, bOff = l.ParamOffset + l.WeightCount;
            w.Line("// Depthwise (groups = channels): each channel is convolved with its own filter by the streaming runtime kernel");
            w.Line("// (all taps of 8 outputs in a register, bias and activation applied in the store); _Run takes the weights, the");
            w.Line("// bias (or null) and the epilogue (0 none, 1 ReLU, 2 SiLU): inference passes the folded W', b' and the fused activation.");
            w.Line($"private static void {pre}_Forward({ForwardParams}) => {pre}_Run(x, y, p + {wOff}, {(s.Bias ? $"p + {bOff}" : "null")}, n, 0);");
            w.Line();
            w.Line(Hot);
            w.Line($"private static void {pre}_Run(float* x, float* y, float* w, float* b, int n, int act) =>");
            w.Line($"    {K}Depthwise.Forward(x, y, w, b, n * {C}, {C}, {H}, {W}, {OH}, {OW}, {KH}, {KW},");
            w.Line($"        {s.StrideH}, {s.StrideW}, {s.PadH}, {s.PadW}, {s.DilationH}, {s.DilationW}, act);");
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
    }
}
