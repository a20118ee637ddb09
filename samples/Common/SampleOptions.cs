using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace CnnGen.Samples;

/// <summary>The command line every sample shares, plus its own switches.</summary>
public sealed class SampleOptions
{
    public int Epochs { get; set; }
    public int BatchSize { get; set; }
    public float LearningRate { get; set; }
    public int Threads { get; set; } = Environment.ProcessorCount;
    public ulong Seed { get; set; } = 1;
    public string? Data { get; set; }
    public string Save { get; set; } = "model.safetensors";
    /// <summary>--evaluate PATH: no training; load these weights, report on the test (or held-out) set, export ONNX next to them.</summary>
    public string? Evaluate { get; set; }
    public string? CheckpointOverride { get; set; }
    public bool Resume { get; set; }
    public int LogInterval { get; set; } = 10;
    public int Limit { get; set; }
    public int Holdout { get; set; }
    public bool NoPlots { get; set; }
    public int Shards { get; set; } // 0: TrainerOptions.AutoShards(batch size)
    public HashSet<string> Switches { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    /// <summary>The checkpoint path: --checkpoint, or the --save path with the extension .ckpt.</summary>
    public string CheckpointPath => CheckpointOverride ?? Path.ChangeExtension(Save, ".ckpt");

    /// <summary>Where plots go: next to the checkpoint, named after it.</summary>
    public string PlotPrefix => Path.ChangeExtension(CheckpointPath, null);

    public bool Has(string flag) => Switches.Contains(flag);

    /// <summary>A sample's own option: a switch (no value) or a valued option.</summary>
    public sealed record Extra(string Flag, string Help, bool TakesValue = false);

    /// <summary>The exit code of every bad input (option, data, checkpoint, file) in the samples.</summary>
    public const int ErrorExit = 2;

    /// <summary>
    /// Parses the command line; prints help or an error (one line naming the option and the problem) and returns null (exit code
    /// in <paramref name="exitCode"/>: 0 after --help, <see cref="ErrorExit"/> after an error) when the program should stop.
    /// </summary>
    public static SampleOptions? Parse(string[] args, string program, string description, SampleOptions defaults, out int exitCode, params Extra[] extras) =>
        Parse(args, program, description, defaults, Console.Out, Console.Error, out exitCode, extras);

    /// <summary>As <see cref="Parse(string[], string, string, SampleOptions, out int, Extra[])"/>, writing to the given streams.</summary>
    public static SampleOptions? Parse(string[] args, string program, string description, SampleOptions defaults, TextWriter stdout, TextWriter stderr, out int exitCode, params Extra[] extras)
    {
        SampleOptions o = defaults;
        exitCode = 0;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string? inline = null;
                int eq = a.IndexOf('=');
                if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
                {
                    inline = a[(eq + 1)..];
                    a = a[..eq];
                }
                string Next()
                {
                    if (inline is not null) return inline;
                    if (i + 1 >= args.Length) throw new FormatException($"{a} needs a value.");
                    return args[++i];
                }
                int Int()
                {
                    string v = Next();
                    return int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n)
                        ? n : throw new FormatException($"{a} takes a whole number, not '{v}'.");
                }
                switch (a)
                {
                    case "-h": case "--help": stdout.WriteLine(Help(program, description, o, extras)); return null;
                    case "--epochs": o.Epochs = Positive(a, Int()); break;
                    case "--batch-size": o.BatchSize = Positive(a, Int()); break;
                    case "--lr":
                    {
                        string v = Next();
                        o.LearningRate = float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float lr)
                            ? lr : throw new FormatException($"--lr takes a number, not '{v}'.");
                        break;
                    }
                    case "--threads": o.Threads = Positive(a, Int()); break;
                    case "--seed":
                    {
                        string v = Next();
                        o.Seed = ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
                            ? seed : throw new FormatException($"--seed takes a whole number from 0 to {ulong.MaxValue}, not '{v}'.");
                        break;
                    }
                    case "--data": o.Data = Next(); break;
                    case "--save": o.Save = Next(); break;
                    case "--evaluate": o.Evaluate = Next(); break;
                    case "--checkpoint": o.CheckpointOverride = Next(); break;
                    case "--resume": o.Resume = true; break;
                    case "--log-interval": o.LogInterval = Math.Max(0, Int()); break;
                    case "--limit": o.Limit = Positive(a, Int()); break;
                    case "--holdout": o.Holdout = Positive(a, Int()); break;
                    case "--shards": o.Shards = Positive(a, Int()); break;
                    case "--no-plots": o.NoPlots = true; break;
                    default:
                        Extra? e = Array.Find(extras, x => x.Flag == a);
                        if (e is null)
                            throw new FormatException($"Unknown option {a}.");
                        if (e.TakesValue) o.Values[a] = Next();
                        else o.Switches.Add(a);
                        break;
                }
            }
            if (!(o.LearningRate > 0) || float.IsInfinity(o.LearningRate))
                throw new FormatException("--lr must be a positive number.");
            return o;
        }
        catch (FormatException ex)
        {
            stderr.WriteLine($"{program}: {ex.Message} (see --help)");
            exitCode = ErrorExit;
            return null;
        }
    }

    private static int Positive(string flag, int v) => v >= 1 ? v : throw new FormatException($"{flag} must be at least 1.");

    private static string Help(string program, string description, SampleOptions d, Extra[] extras)
    {
        var sb = new StringBuilder();
        sb.AppendLine(description).AppendLine();
        sb.AppendLine($"Usage: {program} [options]").AppendLine();
        sb.AppendLine("Options:");
        void Row(string flag, string help) => sb.AppendLine($"  {flag,-22} {help}");
        Row("--epochs N", $"epochs to train (default {d.Epochs})");
        Row("--batch-size N", $"samples per mini-batch (default {d.BatchSize})");
        Row("--lr X", $"learning rate (default {d.LearningRate.ToString(CultureInfo.InvariantCulture)})");
        Row("--threads N", $"worker threads (default: the core count, {Environment.ProcessorCount}); results do not depend on it");
        Row("--seed N", $"seed of initialization, shuffling and dropout (default {d.Seed})");
        Row("--data DIR", "data directory (else $CNNGEN_DATA, then ~/.cache/cnngen/<name>, then a download)");
        Row("--save PATH", $"where to save the trained weights, safetensors (default {d.Save})");
        Row("--checkpoint PATH", "checkpoint written after every epoch (default: --save with .ckpt); plots go next to it");
        Row("--evaluate PATH", "no training: load the weights in PATH (e.g. fine-tuned in PyTorch), report accuracy, export ONNX beside them");
        Row("--resume", "continue from the checkpoint if it exists (same seed and batch size)");
        Row("--log-interval N", $"a 'Train Epoch' line every N batches (default {d.LogInterval}; 0 for none)");
        Row("--limit N", "train on the first N training samples only (quick runs)");
        Row("--holdout N", "hold N training samples out and report on them instead of the test set (for tuning)");
        Row("--shards N", "fixed shards per mini-batch (default: batch size / 16, 2 to 8); results depend on it, not on --threads");
        Row("--no-plots", "do not write the PNG plots");
        foreach (Extra e in extras)
            Row(e.TakesValue ? e.Flag + " VALUE" : e.Flag, e.Help);
        Row("-h, --help", "show this help");
        return sb.ToString().TrimEnd();
    }
}
