// CnnGen benchmark: the generated models A, B, C (../shared/bench/peers/models.py) measured the way the peers'
// harness measures PyTorch and ONNX Runtime: median over many calls after warm-up, redone when other processes
// used the CPU meanwhile.
//   dotnet run -c Release --project bench/CnnGen.Bench -- [--models A,B,C] [--seconds 2] [--out bench/results/cnngen.json]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.Bench;
using CnnGen.Losses;
using CnnGen.Optim;

static class Program
{
    static double s_seconds = 2.0;

    static string Arg(string[] a, string name, string def)
    {
        int i = Array.IndexOf(a, name);
        return i >= 0 && i + 1 < a.Length ? a[i + 1] : def;
    }

    static int Main(string[] args)
    {
        s_cold = args.Contains("--cold");
        s_seconds = double.Parse(Arg(args, "--seconds", "2"), System.Globalization.CultureInfo.InvariantCulture);
        var names = Arg(args, "--models", "A,B,C").Split(',');
        string outPath = Arg(args, "--out", Path.Combine("bench", "results", "cnngen.json"));
        Console.WriteLine($"CnnGen bench: .NET {Environment.Version}, {Environment.ProcessorCount} cores, Vector256 accelerated: {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, Vector512: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        if (Array.IndexOf(args, "--gemm") >= 0) return GemmBench(Arg(args, "--gemm", "64,608,288"));
        if (Array.IndexOf(args, "--maxpool") >= 0) return MaxPoolBench(Arg(args, "--maxpool", "64,112,112,3,1"));
        if (Array.IndexOf(args, "--conv3x3") >= 0) return Conv3x3Bench(Arg(args, "--conv3x3", "64,56,56,64;128,28,28,128;256,14,14,256"));
        if (Array.IndexOf(args, "--silu") >= 0) return SiluBench(int.Parse(Arg(args, "--silu", "131072")));
        if (Array.IndexOf(args, "--depthwise") >= 0) return DepthwiseBench(Arg(args, "--depthwise", "96,112,112,3,2"));
        if (Array.IndexOf(args, "--big") >= 0)
            return Big.Run(Arg(args, "--big", "cifar,resnet18,effb0").Split(','), Arg(args, "--dir", Path.Combine("bench", "results", "big")),
                int.Parse(Arg(args, "--reps", "3")), s_seconds, args.Contains("--profile"), args.Contains("--inference-only"));
        if (!args.Contains("--no-wait")) WaitIdle();
        var results = new Dictionary<string, object>();
        foreach (var name in names)
        {
            ICnnModel model = name switch { "A" => new ModelA(1), "B" => new ModelB(1), "C" => new ModelC(1), "K" => new ModelK(1), _ => throw new ArgumentException(name) };
            Console.WriteLine($"\n== model {name}: {model.ParameterCount:N0} parameters ==");
            var r = new Dictionary<string, object>();
            if (args.Contains("--profile-only"))
            {
                foreach (string b in Arg(args, "--profile-batches", "1,64").Split(',')) Profile(model, int.Parse(b));
                continue;
            }
            r["latency_b1_1t_us"] = Latency(model);
            r["infer_b64_1t_img_s"] = InferThroughput(model, 64, 1);
            r["infer_b64_2t_img_s"] = InferThroughput(model, 64, 2);
            r["train_b64_1t_img_s"] = TrainThroughput(model, 64, 1);
            r["train_b64_2t_img_s"] = TrainThroughput(model, 64, 2);
            r["profile_b1"] = Profile(model, 1);
            r["profile_b64"] = Profile(model, 64);
            results[name] = r;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllText(outPath, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nwrote {outPath}");
        return 0;
    }

    static void WaitIdle()
    {
        LoadProbe.WaitIdle();
    }

    /// <summary>Median microseconds per call over at least s_seconds; redone (up to 4×) if other processes used > 0.1 core.</summary>
    static (double Median, double Foreign) Time(Action fn, int warmup, int minCalls)
    {
        (double, double) best = (double.MaxValue, double.MaxValue);
        for (int attempt = 0; attempt < 4; attempt++)
        {
            for (int i = 0; i < warmup; i++) fn();
            var us = new List<double>();
            var probe = LoadProbe.Start();
            var total = Stopwatch.StartNew();
            double tick = 1e6 / Stopwatch.Frequency;
            while (us.Count < minCalls || total.Elapsed.TotalSeconds < s_seconds)
            {
                long t0 = Stopwatch.GetTimestamp();
                fn();
                us.Add((Stopwatch.GetTimestamp() - t0) * tick);
            }
            probe.Stop();
            us.Sort();
            double median = us[us.Count / 2];
            if (probe.ForeignCores < best.Item2) best = (median, probe.ForeignCores);
            if (probe.ForeignCores <= 0.10) break;
            Console.WriteLine($"  [foreign load {probe.ForeignCores:F2} cores during measurement; waiting and redoing]");
            WaitIdle();
        }
        return best;
    }

    /// <summary>
    /// --depthwise C,H,W,k,stride[;...]: the depthwise kernel (padding k/2, bias, SiLU epilogue) on one sample, one thread:
    /// µs per call and the bytes it must move (input + output) per µs, next to a plain copy of the same bytes.
    /// </summary>
    static unsafe int DepthwiseBench(string spec)
    {
        foreach (string shape in spec.Split(';'))
        {
            int[] d = shape.Split(',').Select(int.Parse).ToArray();
            int C = d[0], H = d[1], W = d[2], k = d[3], st = d[4], p = k / 2;
            int oh = (H + 2 * p - k) / st + 1, ow = (W + 2 * p - k) / st + 1;
            float[] x = new float[C * H * W], y = new float[C * oh * ow + 16], w = new float[C * k * k], b = new float[C];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < x.Length; i++) x[i] = (i % 7) * 0.1f - 0.3f;
            for (int i = 0; i < w.Length; i++) w[i] = (i % 5) * 0.05f;
            double bytes = 4.0 * (x.Length + C * oh * ow);
            double us, usPlain, usRow, usBlocked;
            fixed (float* px = x, py = y, pw = w, pb = b)
            {
                float* cx = px, cy = py, cw = pw, cb = pb;
                us = Time(() => CnnGen.Kernels.Depthwise.Forward(cx, cy, cw, cb, C, C, H, W, oh, ow, k, k, st, st, p, p, 1, 1, CnnGen.Kernels.Depthwise.Silu), 20, 50).Median;
                usPlain = Time(() => CnnGen.Kernels.Depthwise.Forward(cx, cy, cw, cb, C, C, H, W, oh, ow, k, k, st, st, p, p, 1, 1, CnnGen.Kernels.Depthwise.None), 20, 50).Median;
                int keep = CnnGen.Kernels.DepthwiseBlocked.MaxWidth;
                CnnGen.Kernels.DepthwiseBlocked.MaxWidth = 0;
                usRow = Time(() => CnnGen.Kernels.Depthwise.Forward(cx, cy, cw, cb, C, C, H, W, oh, ow, k, k, st, st, p, p, 1, 1, CnnGen.Kernels.Depthwise.Silu), 20, 50).Median;
                CnnGen.Kernels.DepthwiseBlocked.MaxWidth = int.MaxValue;
                usBlocked = Time(() => CnnGen.Kernels.Depthwise.Forward(cx, cy, cw, cb, C, C, H, W, oh, ow, k, k, st, st, p, p, 1, 1, CnnGen.Kernels.Depthwise.Silu), 20, 50).Median;
                CnnGen.Kernels.DepthwiseBlocked.MaxWidth = keep;
            }
            var copy = new float[x.Length];
            double usCopy = Time(() => x.AsSpan().CopyTo(copy), 20, 50).Median;
            double macs = (double)C * oh * ow * k * k;
            Console.WriteLine($"depthwise C={C} {H}x{W} k={k} s={st}: {us:F1} µs, {bytes / us / 1e3:F1} GB/s in+out, {2 * macs / us / 1e3:F1} GFLOP/s (no epilogue {usPlain:F1} µs; copying the input alone: {usCopy:F1} µs; with SiLU: row kernel {usRow:F1} µs, channel-blocked {usBlocked:F1} µs)");
        }
        return 0;
    }

    /// <summary>--silu N: ActivationOps.Silu over N floats in place (N = 131072: 512 KB, in L2), one thread: ns per element.</summary>
    static unsafe int SiluBench(int n)
    {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i % 97) * 0.1f - 4.8f;
        fixed (float* px = x)
        {
            float* p = px;
            double us = Time(() => CnnGen.Kernels.ActivationOps.Silu(p, p, n), 20, 50).Median;
            Console.WriteLine($"silu n={n}: {us:F1} µs, {us * 1e3 / n:F3} ns per element");
        }
        return 0;
    }

    /// <summary>--maxpool C,H,W,k,pad[;...]: the inference stride-2 max pool (Ops.MaxPoolStride2) on one sample, one thread: µs and GB/s in + out.</summary>
    static unsafe int MaxPoolBench(string spec)
    {
        foreach (string shape in spec.Split(';'))
        {
            int[] d = shape.Split(',').Select(int.Parse).ToArray();
            int C = d[0], H = d[1], W = d[2], k = d[3], p = d[4], OH = (H + 2 * p - k) / 2 + 1, OW = (W + 2 * p - k) / 2 + 1;
            float[] x = new float[C * H * W], y = new float[C * OH * OW];
            for (int i = 0; i < x.Length; i++) x[i] = (i * 7919 % 1000) * 0.001f;
            double us;
            fixed (float* px = x, py = y)
            {
                float* cx = px, cy = py;
                us = Time(() => CnnGen.Kernels.Ops.MaxPoolStride2(cx, cy, C, H, W, OH, OW, k, p, p), 20, 50).Median;
            }
            Console.WriteLine($"maxpool C={C} {H}x{W} k={k} pad={p}: {us:F1} µs, {4.0 * (x.Length + y.Length) / us / 1e3:F1} GB/s in+out");
        }
        return 0;
    }

    /// <summary>
    /// --conv3x3 C,H,W,M[,k,stride,pad][;...]: a k×k convolution (default 3×3, stride 1, padding k/2; bias, ReLU) of one sample, the im2col-free
    /// DirectConv against im2col + GEMM (its fallback), GFLOP/s on 1 thread and, direct, on 2 intra-op threads.
    /// </summary>
    static unsafe int Conv3x3Bench(string spec)
    {
        foreach (string shape in spec.Split(';'))
        {
            int[] d = shape.Split(',').Select(int.Parse).ToArray();
            int C = d[0], H = d[1], W = d[2], M = d[3], k = d.Length > 4 ? d[4] : 3, st = d.Length > 5 ? d[5] : 1, pd = d.Length > 6 ? d[6] : k / 2;
            int OH = (H + 2 * pd - k) / st + 1, OW = (W + 2 * pd - k) / st + 1;
            float[] x = new float[C * H * W], y = new float[M * OH * OW], w = new float[M * C * k * k], b = new float[M];
            var rng = new Random(C + H);
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
            for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
            double flops = 2.0 * M * OH * OW * C * k * k, direct, im2col, direct2;
            fixed (float* px = x, py = y, pw = w, pb = b)
            {
                float* cx = px, cy = py, cw = pw, cb = pb;
                double Gflops(bool useDirect) => flops / Time(() => CnnGen.Kernels.DirectConv.Forward(cx, cy, cw, cb, 1, C, H, W, M, k, k, st, st, pd, pd, CnnGen.Kernels.DirectConv.Relu, useDirect), 20, 50).Median / 1e3;
                direct = Gflops(true);
                im2col = Gflops(false);
                CnnGen.Kernels.Parallelism.IntraOpThreads = 2;
                direct2 = Gflops(true);
                CnnGen.Kernels.Parallelism.IntraOpThreads = 1;
            }
            Console.WriteLine($"conv{k}x{k}/{st} C={C} {H}x{W} M={M}: direct {direct:F1} GFLOP/s, im2col + GEMM {im2col:F1} GFLOP/s, direct on 2 threads {direct2:F1} GFLOP/s");
        }
        return 0;
    }

    /// <summary>
    /// --gemm M,N,K[;M,N,K...]: GFLOP/s of the three GEMMs a convolution runs (forward C = A·B, weight gradient C += A·Bᵀ,
    /// input gradient C = Aᵀ·B) for those shapes, one thread, median of repeated calls over --seconds.
    /// </summary>
    static bool s_cold;

    static unsafe int GemmBench(string spec)
    {
        foreach (string shape in spec.Split(';'))
        {
            int[] d = shape.Split(',').Select(int.Parse).ToArray();
            int M = d[0], N = d[1], K = d[2];
            // A convolution's operands: W [M, K], col [K, N], output (or its gradient) [M, N]; results go to c.
            float* w = Alloc(M * K), col = Alloc(K * N), dy = Alloc(M * N), c = Alloc(Math.Max(M * Math.Max(N, K), K * N));
            double flops = 2.0 * M * N * K;
            double Gflops(Action f) => flops / Time(f, 20, 50).Median / 1e3; // Time gives µs
            // Cold weights (--cold): A rotates over copies totalling ≥ 64 MB, so each product reads its weights from memory,
            // as a batch-1 forward pass of a model larger than the L3 does.
            int copies = s_cold ? (int)Math.Max(1, (64L << 20) / (4L * M * K)) : 1;
            var ws = new IntPtr[copies];
            ws[0] = (IntPtr)w;
            for (int i = 1; i < copies; i++) ws[i] = (IntPtr)Alloc(M * K);
            int turn = 0;
            double cold = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNN(M, N, K, (float*)ws[turn++ % copies], K, 1, col, N, c, N, false));
            for (int i = 1; i < copies; i++) System.Runtime.InteropServices.NativeMemory.AlignedFree((void*)ws[i]);
            if (s_cold) Console.WriteLine($"gemm M={M} N={N} K={K}: forward A·B with weights from memory ({copies} copies) {cold:F1} GFLOP/s");
            double nn = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNN(M, N, K, w, K, 1, col, N, c, N, false)); // y = W · col
            double plain = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNNPlain(M, N, K, w, K, 1, col, N, c, N, false)); // without blocking
            CnnGen.Kernels.Parallelism.IntraOpThreads = 2;
            double nn2 = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNN(M, N, K, w, K, 1, col, N, c, N, false));
            CnnGen.Kernels.Parallelism.IntraOpThreads = 1;
            double nt = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNT(M, K, N, dy, N, col, N, c, K, true)); // dW += dy · colᵀ
            double tn = Gflops(() => CnnGen.Kernels.Gemm.MultiplyNN(K, N, M, w, 1, K, dy, N, c, N, false)); // dcol = Wᵀ · dy
            Console.WriteLine($"gemm M={M} N={N} K={K}: forward A·B {nn:F1} GFLOP/s (unblocked {plain:F1}, 2 threads {nn2:F1}), weight gradient A·Bᵀ {nt:F1}, input gradient Aᵀ·B {tn:F1} (Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated})");
            System.Runtime.InteropServices.NativeMemory.AlignedFree(w);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(col);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(dy);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(c);
        }
        return 0;

        static float* Alloc(int count)
        {
            float* p = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)count * 4, 64);
            var rng = new Random(count);
            for (int i = 0; i < count; i++) p[i] = (float)rng.NextDouble() - 0.5f;
            return p;
        }
    }

    static double Latency(ICnnModel model)
    {
        var x = RandomInput(model, 1);
        var y = new float[model.OutputSize];
        var (med, foreign) = Time(() => model.Forward(x, y), 2000, 5000);
        Console.WriteLine($"batch-1 inference latency, 1 thread: {med:F2} µs (foreign load {foreign:F2})");
        return Math.Round(med, 2);
    }

    static double InferThroughput(ICnnModel model, int batch, int threads)
    {
        var x = RandomInput(model, batch);
        var y = new float[batch * model.OutputSize];
        Action run = threads == 1
            ? () => model.Forward(x, y, batch)
            : () => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int per = batch / threads, start = t * per, count = t == threads - 1 ? batch - start : per;
                model.Forward(x.AsSpan(start * model.InputSize, count * model.InputSize), y.AsSpan(start * model.OutputSize, count * model.OutputSize), count);
            });
        var (med, foreign) = Time(run, 50, 50);
        double ips = batch / (med * 1e-6);
        Console.WriteLine($"batch-{batch} inference, {threads} thread(s): {ips:N0} img/s ({med:F1} µs per batch, foreign load {foreign:F2})");
        return Math.Round(ips);
    }

    /// <summary>One training step as the peers time it: forward (training mode), cross-entropy, backward, Adam.</summary>
    static double TrainThroughput(ICnnModel model, int batch, int threads)
    {
        var x = RandomInput(model, batch);
        var rng = new Rng(7);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(10);
        var saved = (float[])model.Parameters.Clone();
        var adam = new Adam(model.ParameterCount, 1e-3f);
        Action step = TrainStep.Create(model, x, labels, batch, threads, (p, g) => adam.Step(p, g));
        var (med, foreign) = Time(step, 10, 20);
        saved.CopyTo(model.Parameters, 0);
        double ips = batch / (med * 1e-6);
        Console.WriteLine($"batch-{batch} training step (fwd + CE + bwd + Adam), {threads} thread(s): {ips:N0} img/s ({med:F1} µs per step, foreign load {foreign:F2})");
        return Math.Round(ips);
    }

    /// <summary>Per-layer forward/backward time of a training step at one thread, with the conv layers' GFLOP/s.</summary>
    static object Profile(ICnnModel model, int batch)
    {
        var x = RandomInput(model, batch);
        var ws = model.CreateWorkspace(batch);
        var y = new float[batch * model.OutputSize];
        var dy = RandomInput(model, 0, batch * model.OutputSize);
        var g = new float[model.ParameterCount];
        int layers = model.LayerNames.Length;
        for (int i = 0; i < 20; i++) { model.ForwardTrain(ws, x, y, batch); model.Backward(ws, dy, g, Span<float>.Empty); }
        ws.ForwardTicks = new long[layers];
        ws.BackwardTicks = new long[layers];
        int iters = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < s_seconds) { model.ForwardTrain(ws, x, y, batch); model.Backward(ws, dy, g, Span<float>.Empty); iters++; }
        double toUs = 1e6 / Stopwatch.Frequency / iters;
        var flops = ConvFlops(model);
        var rows = new List<object>();
        Console.WriteLine($"per-layer profile, batch {batch}, 1 thread (µs per step; conv GFLOP/s; V256 FMA peak here ≈ 113 GFLOP/s per core):");
        Console.WriteLine($"  {"layer",-12} {"forward",10} {"backward",10} {"fwd GFLOP/s",12} {"bwd GFLOP/s",12}");
        double totalF = 0, totalB = 0;
        for (int i = 0; i < layers; i++)
        {
            double f = ws.ForwardTicks[i] * toUs, b = ws.BackwardTicks[i] * toUs;
            totalF += f; totalB += b;
            string fg = "", bg = "";
            if (flops.TryGetValue(model.LayerNames[i], out var fl))
            {
                fg = (fl.Forward * batch / (f * 1e3)).ToString("F1");
                bg = (fl.Backward * batch / (b * 1e3)).ToString("F1");
            }
            Console.WriteLine($"  {model.LayerNames[i],-12} {f,10:F1} {b,10:F1} {fg,12} {bg,12}");
            rows.Add(new { layer = model.LayerNames[i], forward_us = Math.Round(f, 1), backward_us = Math.Round(b, 1), forward_gflops = fg, backward_gflops = bg });
        }
        Console.WriteLine($"  {"total",-12} {totalF,10:F1} {totalB,10:F1}");
        return rows;
    }

    /// <summary>FLOPs per sample of each Conv2d/Linear layer (multiply-add = 2), forward and backward (dW + dX; dW only for the first layer).</summary>
    static Dictionary<string, (double Forward, double Backward)> ConvFlops(ICnnModel model)
    {
        var d = new Dictionary<string, (double, double)>();
        // Parameter slots give weight shapes; output sizes come from the summary rows.
        string summary = model switch { ModelA => ModelA.Summary(), ModelB => ModelB.Summary(), ModelC => ModelC.Summary(), ModelK => ModelK.Summary(), _ => "" };
        var shapes = new Dictionary<string, int[]>();
        foreach (var line in summary.Split('\n'))
        {
            var t = line.Trim();
            int lb = t.IndexOf('['), rb = t.IndexOf(']');
            if (lb < 0 || rb < 0) continue;
            string layer = t[..lb].Trim();
            shapes[layer] = t[(lb + 1)..rb].Split(',').Skip(1).Select(s => int.Parse(s.Trim())).ToArray();
        }
        var weights = model.ParameterSlots.Where(s => s.Key.EndsWith(".weight")).ToList();
        var convs = model.LayerNames.Where(n => n.StartsWith("Conv2d") || n.StartsWith("Linear")).ToList();
        for (int i = 0; i < convs.Count && i < weights.Count; i++)
        {
            int[] w = weights[i].Shape;
            int[] o = shapes[convs[i]];
            double macs = w.Aggregate(1.0, (a, v) => a * v) * (o.Length == 3 ? o[1] * o[2] : 1);
            d[convs[i]] = (2 * macs, (i == 0 ? 2 : 4) * macs);
        }
        return d;
    }

    static float[] RandomInput(ICnnModel model, int batch, int count = -1)
    {
        var rng = new Rng(3);
        var x = new float[count >= 0 ? count : batch * model.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        return x;
    }
}
