// Issue 19 peer: ONNX Runtime 1.32 from C# on bench/big_torch.py's ONNX exports. ORT_ENABLE_ALL, intra-op threads set
// explicitly, inter-op 1, sequential execution, IoBinding with preallocated input/output (the fastest way to call ORT).
// Output checked against PyTorch's logits (max |Δ| ≤ 1e-3) before timing.
//   dotnet run -c Release -- --models cifar,resnet18,effb0 --dir ../../results/big [--reps 3] [--seconds 1]
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

static class Program
{
    static string Arg(string[] a, string name, string def) { int i = Array.IndexOf(a, name); return i >= 0 && i + 1 < a.Length ? a[i + 1] : def; }

    static int Main(string[] args)
    {
        string dir = Arg(args, "--dir", "../../results/big");
        int reps = int.Parse(Arg(args, "--reps", "3"));
        double seconds = double.Parse(Arg(args, "--seconds", "1"), System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
        foreach (string name in Arg(args, "--models", "cifar,resnet18,effb0").Split(','))
        {
            var check = CnnGen.IO.SafeTensors.Read(Path.Combine(dir, name + ".check.safetensors"));
            var cx = check["x"]; var cy = check["y"];
            int[] inShape = cx.Shape; int classes = cy.Shape[1];
            int inSize = inShape.Skip(1).Aggregate(1, (a, b) => a * b);
            var r = new Dictionary<string, object>();
            foreach (int threads in new[] { 1, 2 })
            {
                using var opt = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    IntraOpNumThreads = threads,
                    InterOpNumThreads = 1,
                    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                };
                // --profile: ORT's own per-node timing (a JSON trace per session, onnxruntime_profile__*.json in the working directory) of the timed runs, 1 thread only.
                bool profile = args.Contains("--profile");
                if (profile && threads > 1) break;
                if (profile) opt.EnableProfiling = true;
                using var session = new InferenceSession(Path.Combine(dir, name + ".onnx"), opt);
                if (threads == 1)
                {
                    var got = Infer(session, cx.Data, 2, inShape, classes);
                    double maxDiff = cy.Data.Zip(got, (a, b) => Math.Abs((double)a - b)).Max();
                    Console.WriteLine($"\n== ORT {name}: max |ORT - PyTorch| = {maxDiff:E2} ==");
                    r["max_abs_diff_vs_torch"] = maxDiff;
                    if (!(maxDiff <= 1e-3)) { Console.WriteLine("  MISMATCH > 1e-3: not timed"); break; }
                }
                foreach (int batch in new[] { 1, 8 })
                {
                    var x = new float[batch * inSize];
                    var rng = new Random(5);
                    for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() * 2 - 1;
                    var y = new float[batch * classes];
                    long[] xs = new long[] { batch }.Concat(inShape.Skip(1).Select(v => (long)v)).ToArray();
                    using var xin = OrtValue.CreateTensorValueFromMemory(x, xs);
                    using var yout = OrtValue.CreateTensorValueFromMemory(y, new long[] { batch, classes });
                    using var binding = session.CreateIoBinding();
                    binding.BindInput("input", xin);
                    binding.BindOutput("output", yout);
                    using var ro = new RunOptions();
                    var t = Timing.Reps(() => session.RunWithBinding(ro, binding), reps, seconds, 3);
                    r[$"infer_b{batch}_{threads}t"] = t;
                    Console.WriteLine($"  ORT {name} inference b{batch} {threads}t: min {t.min_us:F0} µs, median {t.median_us:F0} µs");
                    if (profile) break;
                }
                if (profile) Console.WriteLine($"  profile: {session.EndProfiling()}");
            }
            if (!args.Contains("--profile")) File.WriteAllText(Path.Combine(dir, $"ort_{name}.json"), JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    static float[] Infer(InferenceSession s, float[] x, int batch, int[] inShape, int classes)
    {
        var y = new float[batch * classes];
        long[] xs = new long[] { batch }.Concat(inShape.Skip(1).Select(v => (long)v)).ToArray();
        using var xin = OrtValue.CreateTensorValueFromMemory(x, xs);
        using var yout = OrtValue.CreateTensorValueFromMemory(y, new long[] { batch, classes });
        using var b = s.CreateIoBinding();
        b.BindInput("input", xin); b.BindOutput("output", yout);
        using var ro = new RunOptions();
        s.RunWithBinding(ro, b);
        return y;
    }
}
