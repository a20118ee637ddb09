// Issue 19's ResNet-class comparison, CnnGen side: the samples' ResNet-18, EfficientNet-B0 and CIFAR ResNet with the
// weights bench/big_torch.py exported from PyTorch; outputs checked against PyTorch's (max |Δ| ≤ 1e-3) before timing.
//   dotnet run -c Release --project bench/CnnGen.Bench -- --big cifar,resnet18,effb0 [--reps 3] [--seconds 1] [--dir bench/results/big]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.IO;
using CnnGen.Losses;
using CnnGen.Optim;

static class Big
{
    public static int Run(string[] names, string dir, int reps, double seconds, bool profile = false, bool inferenceOnly = false)
    {
        foreach (string name in names)
        {
            ICnnModel model = name switch
            {
                "cifar" => new CnnGen.Samples.ResNet.CifarResNet(1),
                "resnet18" => new CnnGen.Samples.ResNet.ResNet18(1),
                "effb0" => new CnnGen.Samples.EfficientNet.EfficientNetB0(1),
                "mbconv" => new CnnGen.Samples.ResNet.MBConvNet(1), // the MBConv sample (1×28×28): its own initial weights, no PyTorch check
                _ => throw new ArgumentException(name),
            };
            if (name == "mbconv")
            {
                if (profile) { Profile(model, name, seconds); continue; }
                Console.WriteLine($"\n== CnnGen {name}: {model.ParameterCount:N0} parameters (initial weights; not checked against PyTorch) ==");
                var rm = new Dictionary<string, object>();
                foreach (int batch in new[] { 1, 8 })
                {
                    var xm = Rand(batch * model.InputSize);
                    var ym = new float[batch * model.OutputSize];
                    var tm = Timing.Reps(() => model.Forward(xm, ym, batch), reps, seconds, 3);
                    rm[$"infer_b{batch}_1t"] = tm;
                    Console.WriteLine($"  CnnGen {name} inference b{batch} 1t: min {tm.min_us:F0} µs, median {tm.median_us:F0} µs");
                }
                var tt = Train(model, 32, 1, reps, seconds);
                rm["train_b32_1t"] = tt;
                Console.WriteLine($"  CnnGen {name} training b32 1t: min {tt.min_us / 1e3:F1} ms, median {tt.median_us / 1e3:F1} ms");
                Save(dir, name, rm);
                continue;
            }
            model.LoadWeights(Path.Combine(dir, name + ".weights.safetensors"));
            var check = SafeTensors.Read(Path.Combine(dir, name + ".check.safetensors"));
            float[] cx = check["x"].Data, cy = check["y"].Data;
            var got = new float[cy.Length];
            model.Forward(cx, got, 2);
            double maxDiff = cy.Zip(got, (a, b) => Math.Abs((double)a - b)).Max();
            Console.WriteLine($"\n== CnnGen {name}: {model.ParameterCount:N0} parameters; max |CnnGen - PyTorch| over 2x{model.OutputSize} logits = {maxDiff:E2} ==");
            var r = new Dictionary<string, object> { ["max_abs_diff_vs_torch"] = maxDiff };
            if (!(maxDiff <= 1e-3)) { Console.WriteLine("  MISMATCH > 1e-3: not timed"); r["error"] = "mismatch"; Save(dir, name, r); continue; }
            if (profile) { Profile(model, name, seconds); continue; }
            foreach (int threads in new[] { 1, 2 })
                foreach (int batch in new[] { 1, 8 })
                {
                    // CNNGEN_BIG_ONLY=b1-2t (say): time that configuration alone (for perf record of one of them).
                    string? only = Environment.GetEnvironmentVariable("CNNGEN_BIG_ONLY");
                    if (!string.IsNullOrEmpty(only) && only != $"b{batch}-{threads}t") continue;
                    var x = Rand(batch * model.InputSize);
                    var y = new float[batch * model.OutputSize];
                    Action run = threads == 1 || batch == 1
                        ? () => model.Forward(x, y, batch)
                        : () => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                        {
                            int per = batch / threads, start = t * per, count = t == threads - 1 ? batch - start : per;
                            model.Forward(x.AsSpan(start * model.InputSize, count * model.InputSize), y.AsSpan(start * model.OutputSize, count * model.OutputSize), count);
                        });
                    // Batch 1 on 2 threads: intra-op parallelism (each large convolution's product split over 2 cores);
                    // batch 8 on 2 threads: two shards of 4, each on one thread.
                    CnnGen.Kernels.Parallelism.IntraOpThreads = threads == 2 && batch == 1 ? 2 : 1;
                    var t2 = Timing.Reps(run, reps, seconds, 3);
                    CnnGen.Kernels.Parallelism.IntraOpThreads = 1;
                    r[$"infer_b{batch}_{threads}t"] = t2;
                    Console.WriteLine($"  CnnGen {name} inference b{batch} {threads}t: min {t2.min_us:F0} µs, median {t2.median_us:F0} µs");
                }
            if (name != "effb0" && !inferenceOnly)
                foreach (int threads in new[] { 1, 2 })
                    foreach (int batch in name == "resnet18" ? new[] { 32 } : new[] { 32, 64 })
                    {
                        var t3 = Train(model, batch, threads, reps, name == "resnet18" ? 0 : seconds);
                        r[$"train_b{batch}_{threads}t"] = t3;
                        Console.WriteLine($"  CnnGen {name} training b{batch} {threads}t: min {t3.min_us / 1e3:F1} ms, median {t3.median_us / 1e3:F1} ms");
                    }
            Save(dir, name, r);
        }
        return 0;
    }

    /// <summary>
    /// Where a batch-1 forward pass spends its time, per layer kind (depthwise and dense convolutions apart) and the slowest
    /// layers: the per-layer ticks of ForwardTrain (training mode: batch norm normalizes with batch statistics instead of
    /// being folded, otherwise the inference kernels), 1 thread. --big effb0 --profile
    /// </summary>
    static void Profile(ICnnModel model, string name, double seconds)
    {
        var x = Rand(model.InputSize);
        var y = new float[model.OutputSize];
        var ws = model.CreateWorkspace(1);
        for (int i = 0; i < 5; i++) model.ForwardTrain(ws, x, y, 1);
        int layers = model.LayerNames.Length;
        ws.ForwardTicks = new long[layers];
        int iters = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < Math.Max(seconds, 1) || iters < 5) { model.ForwardTrain(ws, x, y, 1); iters++; }
        double toMs = 1e3 / Stopwatch.Frequency / iters;
        // Conv weights [out, in/groups, kh, kw] in layer order: in/groups = 1 with a kernel over 1×1 is depthwise.
        var convShapes = model.ParameterSlots.Where(s => s.Key.EndsWith(".weight") && s.Shape.Length == 4).Select(s => s.Shape).ToList();
        var byKind = new Dictionary<string, (double Ms, int Count)>();
        var rows = new List<(string Layer, double Ms)>();
        int conv = 0;
        for (int i = 0; i < layers; i++)
        {
            string layer = model.LayerNames[i];
            string kind = layer.Split('-')[0];
            if (kind == "Conv2d" && conv < convShapes.Count)
            {
                int[] s = convShapes[conv++];
                kind = s[1] == 1 && s[2] > 1 ? $"Conv2d depthwise" : s[2] == 1 ? "Conv2d 1x1" : "Conv2d dense kxk";
            }
            double ms = ws.ForwardTicks[i] * toMs;
            byKind[kind] = byKind.TryGetValue(kind, out var v) ? (v.Ms + ms, v.Count + 1) : (ms, 1);
            rows.Add((layer, ms));
        }
        double total = rows.Sum(r => r.Ms);
        Console.WriteLine($"  {name} batch-1 forward (training mode), {iters} passes: {total:F2} ms per image; by kind:");
        foreach (var (kind, (ms, count)) in byKind.OrderByDescending(k => k.Value.Ms))
            Console.WriteLine($"    {kind,-20} {count,4} layers {ms,8:F2} ms {100 * ms / total,5:F1}%");
        Console.WriteLine("  slowest layers:");
        foreach (var (layer, ms) in rows.OrderByDescending(r => r.Ms).Take(12)) Console.WriteLine($"    {layer,-24} {ms,8:F3} ms");
    }

    static void Save(string dir, string name, Dictionary<string, object> r) =>
        File.WriteAllText(Path.Combine(dir, $"cnngen_{name}.json"), JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>One training step: forward (training mode), cross-entropy (mean), backward, SGD momentum 0.9; data-parallel shards.</summary>
    static TimingResult Train(ICnnModel model, int batch, int threads, int reps, double seconds)
    {
        var x = Rand(batch * model.InputSize);
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = (i * 7) % model.OutputSize;
        var saved = (float[])model.Parameters.Clone();
        var savedBuf = (float[])model.Buffers.Clone();
        var sgd = new Sgd(model.ParameterCount, 0.01f, 0.9f);
        Action step = TrainStep.Create(model, x, labels, batch, threads, (p, g) => sgd.Step(p, g));
        var t = seconds == 0 ? Timing.Reps(step, reps, 0, 1, 1) : Timing.Reps(step, reps, seconds, 3);
        saved.CopyTo(model.Parameters, 0);
        savedBuf.CopyTo(model.Buffers, 0);
        return t;
    }

    static float[] Rand(int n)
    {
        var rng = new Rng(5);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextFloat() * 2 - 1;
        return x;
    }
}
