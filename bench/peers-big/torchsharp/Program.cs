// Issue 19 peer: TorchSharp-cpu 0.107 (LibTorch 2.10), what a C# user would pick instead of CnnGen. Runs the TorchScript
// of bench/big_torch.py's models (same weights); inference in eval() under torch.inference_mode(); training step =
// forward (train()), cross-entropy, backward, SGD momentum 0.9. Threads set with torch.set_num_threads, inter-op 1.
// Output checked against PyTorch's logits (max |Δ| ≤ 1e-3) before timing.
//   dotnet run -c Release -- --models cifar,resnet18,effb0 --dir ../../results/big [--reps 3] [--seconds 1]
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

static class Program
{
    static string Arg(string[] a, string name, string def) { int i = Array.IndexOf(a, name); return i >= 0 && i + 1 < a.Length ? a[i + 1] : def; }

    static int Main(string[] args)
    {
        string dir = Arg(args, "--dir", "../../results/big");
        int reps = int.Parse(Arg(args, "--reps", "3"));
        double seconds = double.Parse(Arg(args, "--seconds", "1"), System.Globalization.CultureInfo.InvariantCulture);
        torch.set_num_interop_threads(1);
        Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, LibTorch {torch.__version__}");
        foreach (string name in Arg(args, "--models", "cifar,resnet18,effb0").Split(','))
        {
            var check = CnnGen.IO.SafeTensors.Read(Path.Combine(dir, name + ".check.safetensors"));
            long[] inShape = check["x"].Shape.Select(v => (long)v).ToArray();
            int classes = check["y"].Shape[1];
            var m = torch.jit.load<Tensor, Tensor>(Path.Combine(dir, name + ".pt"));
            var r = new Dictionary<string, object>();
            m.eval();
            using (torch.inference_mode())
            {
                var got = m.forward(torch.tensor(check["x"].Data, inShape)).data<float>().ToArray();
                double maxDiff = check["y"].Data.Zip(got, (a, b) => Math.Abs((double)a - b)).Max();
                Console.WriteLine($"\n== TorchSharp {name}: max |TorchSharp - PyTorch| = {maxDiff:E2} ==");
                r["max_abs_diff_vs_torch"] = maxDiff;
                if (!(maxDiff <= 1e-3)) { Console.WriteLine("  MISMATCH > 1e-3: not timed"); continue; }
            }
            foreach (int threads in new[] { 1, 2 })
            {
                torch.set_num_threads(threads);
                m.eval();
                using (torch.inference_mode())
                    foreach (int batch in new[] { 1, 8 })
                    {
                        var x = torch.rand(new long[] { batch }.Concat(inShape.Skip(1)).ToArray());
                        var t = Timing.Reps(() => { using var _ = m.forward(x); }, reps, seconds, 3);
                        r[$"infer_b{batch}_{threads}t"] = t;
                        Console.WriteLine($"  TorchSharp {name} inference b{batch} {threads}t: min {t.min_us:F0} µs, median {t.median_us:F0} µs");
                    }
                if (name == "effb0") continue;
                m.train();
                var opt = torch.optim.SGD(m.parameters(), 0.01, momentum: 0.9);
                var lossFn = torch.nn.CrossEntropyLoss();
                foreach (int batch in name == "resnet18" ? new[] { 32 } : new[] { 32, 64 })
                {
                    var x = torch.rand(new long[] { batch }.Concat(inShape.Skip(1)).ToArray());
                    var lab = torch.randint(0, classes, new long[] { batch });
                    bool slow = name == "resnet18";
                    var t = Timing.Reps(() =>
                    {
                        using var d = torch.NewDisposeScope();
                        opt.zero_grad();
                        lossFn.forward(m.forward(x), lab).backward();
                        opt.step();
                    }, reps, slow ? 0 : seconds, slow ? 1 : 3, slow ? 1 : 2);
                    r[$"train_b{batch}_{threads}t"] = t;
                    Console.WriteLine($"  TorchSharp {name} training b{batch} {threads}t: min {t.min_us / 1e3:F1} ms, median {t.median_us / 1e3:F1} ms");
                }
            }
            File.WriteAllText(Path.Combine(dir, $"torchsharp_{name}.json"), JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }
}
