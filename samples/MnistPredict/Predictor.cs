using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.Data;

namespace CnnGen.Samples.MnistPredict;

/// <summary>
/// mnist-predict's command line, for any model of MNIST's shape (1×28×28 in, 10 classes out): Program.cs passes the model
/// with the compiled-in weights; the tests pass a small one. Every bad input (missing or unreadable file, a directory, an empty,
/// truncated or odd image, IDX or weights file, a bad index or option value) ends in one line on stderr naming the file or
/// option and the problem, and exit code 2; nothing escapes as an unhandled exception.
/// </summary>
public static class Predictor
{
    /// <summary>The exit code of every error.</summary>
    public const int ErrorExit = 2;

    private const int Side = 28, Pixels = Side * Side;

    public const string Usage = """
Usage: mnist-predict IMAGE.pgm|IMAGE.png [IMAGE ...]
       mnist-predict IMAGES-idx3-ubyte[.gz] INDEX
       mnist-predict IMAGES-idx3-ubyte[.gz]              (accuracy over every image)
Options:
  --labels FILE     the IDX labels (default: the images file's neighbour, t10k-images -> t10k-labels)
  --list            with an IDX file and no index: also print "index prediction" for every image
  --weights FILE    use weights loaded from a safetensors file instead of the compiled-in ones
  --raw             inputs in [0, 1] (weights trained with `./build.sh mnist --plain`); default: normalized (0.1307, 0.3081)
  --norm MEAN,STD   other normalization (e.g. 0.2860,0.3530 for Fashion-MNIST weights)
  --bench SECONDS   time batch-1 inference (median over at least SECONDS) on the first image and print it
""";

    /// <summary>A problem with the user's input: reported as one line, exit code 2.</summary>
    private sealed class InputException(string message) : Exception(message);

    /// <summary>Runs the command line; returns the exit code (0 on success, <see cref="ErrorExit"/> on any error).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="createModel">Makes the model (with its compiled-in weights).</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where the one-line error goes.</param>
    public static int Run(string[] args, Func<ICnnModel> createModel, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return RunCore(args, createModel, stdout);
        }
        catch (Exception ex)
        {
            stderr.WriteLine("mnist-predict: " + OneLine(ex));
            return ErrorExit;
        }
    }

    /// <summary>The message of an error as one line; exceptions that are not about the input say what they are.</summary>
    private static string OneLine(Exception ex)
    {
        string message = ex switch
        {
            InputException or IOException or InvalidDataException or UnauthorizedAccessException => ex.Message,
            OutOfMemoryException => "out of memory: " + ex.Message,
            _ => $"unexpected {ex.GetType().Name}: {ex.Message}",
        };
        var sb = new StringBuilder(message.Length);
        foreach (string part in message.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            string p = part.Trim();
            if (p.Length == 0) continue;
            if (sb.Length > 0) sb.Append(sb[^1] == ':' ? " " : "; ");
            sb.Append(p.StartsWith("- ", StringComparison.Ordinal) ? p[2..] : p);
        }
        return sb.ToString();
    }

    private static int RunCore(string[] args, Func<ICnnModel> createModel, TextWriter stdout)
    {
        var files = new List<string>();
        string? labelsPath = null, weightsPath = null;
        bool list = false;
        double benchSeconds = 0;
        Normalization? norm = Normalization.Mnist;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new InputException($"{a} needs a value (mnist-predict --help shows the usage)");
            switch (a)
            {
                case "-h": case "--help": stdout.Write(Usage); return 0;
                case "--labels": labelsPath = Next(); break;
                case "--weights": weightsPath = Next(); break;
                case "--list": list = true; break;
                case "--raw": norm = null; break;
                case "--norm": norm = ParseNorm(Next()); break;
                case "--bench": benchSeconds = ParseBench(Next()); break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal))
                        throw new InputException($"unknown option {a} (mnist-predict --help shows the usage)");
                    files.Add(a);
                    break;
            }
        }
        if (files.Count == 0)
            throw new InputException("no input file (mnist-predict --help shows the usage)");

        ICnnModel model = createModel();
        if (model.InputSize != Pixels)
            throw new InvalidOperationException($"the model takes {model.InputSize} inputs, not {Pixels}");
        if (weightsPath is not null)
        {
            CheckFile(weightsPath, "weights file");
            model.LoadWeights(weightsPath);
        }

        if (IsIdx(files[0]))
            return RunIdx(model, files, labelsPath, list, norm, benchSeconds, stdout);

        bool first = true;
        foreach (string file in files)
        {
            CheckFile(file, "image");
            GrayImage image = Images.Read(file, Side, Side);
            if (files.Count > 1) stdout.WriteLine((first ? "" : "\n") + file + ":");
            float[] x = Input(image.Pixels, norm);
            Report(model, x, null, stdout);
            if (first && benchSeconds > 0) Bench(model, x, benchSeconds, stdout);
            first = false;
        }
        return 0;
    }

    private static int RunIdx(ICnnModel model, List<string> files, string? labelsPath, bool list, Normalization? norm, double benchSeconds, TextWriter stdout)
    {
        if (files.Count > 2)
            throw new InputException($"an IDX file takes at most one index, but {files.Count - 1} follow {files[0]}");
        string images = files[0];
        CheckFile(images, "IDX images file");
        int? index = files.Count == 2 ? ParseIndex(files[1]) : null;
        CheckIdxHeader(images);
        byte[] pixels = IdxReader.ReadImages(images, out int count, out int rows, out int cols);
        if (rows != Side || cols != Side)
            throw new InvalidDataException($"{images}: images are {rows}x{cols}, the model takes {Side}x{Side}");
        if (labelsPath is not null)
            CheckFile(labelsPath, "IDX labels file");
        labelsPath ??= LabelsBeside(images);
        byte[]? labels = labelsPath is null ? null : IdxReader.ReadLabels(labelsPath);
        if (labels is not null && labels.Length != count)
            throw new InvalidDataException($"{labelsPath}: holds {labels.Length} labels for the {count} images of {images}");
        int classes = model.OutputSize;
        if (labels is not null && labels.Select(l => (int)l).DefaultIfEmpty(0).Max() >= classes)
            throw new InvalidDataException($"{labelsPath}: label {labels.Max()} is not one of the model's {classes} classes");
        if (index is int k)
        {
            if (k >= count)
                throw new InputException($"index {k} is out of range: {images} holds images 0..{count - 1}");
            float[] x = Input(pixels.AsSpan(k * Pixels, Pixels), norm);
            Report(model, x, labels?[k], stdout);
            if (benchSeconds > 0) Bench(model, x, benchSeconds, stdout);
            return 0;
        }
        // The whole set, in batches.
        const int Batch = 100;
        var input = new float[Batch * Pixels];
        var logits = new float[Batch * classes];
        int correct = 0;
        var output = new StringBuilder();
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            for (int s = 0; s < n; s++) Input(pixels.AsSpan((start + s) * Pixels, Pixels), norm).CopyTo(input, s * Pixels);
            model.Forward(input, logits, n);
            for (int s = 0; s < n; s++)
            {
                int pred = ArgMax(logits.AsSpan(s * classes, classes));
                if (labels is not null && labels[start + s] == pred) correct++;
                if (list) output.Append(start + s).Append(' ').Append(pred).Append('\n');
            }
        }
        stdout.Write(output);
        if (labels is not null)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Accuracy: {correct}/{count} = {100.0 * correct / count:F2}%"));
        else
            stdout.WriteLine($"Classified {count} images (no labels file found; --labels FILE gives the accuracy)");
        return 0;
    }

    /// <summary>A file the user named: it must exist and be a file with content.</summary>
    private static void CheckFile(string path, string what)
    {
        if (Directory.Exists(path))
            throw new InputException($"{path}: is a directory, not {("aeiouAEIOU".Contains(what[0], StringComparison.Ordinal) ? "an" : "a")} {what}");
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new InputException($"{path}: no such {what}");
        if (info.Length == 0)
            throw new InputException($"{path}: the {what} is empty");
    }

    /// <summary>The IDX header's image size, checked before the pixels are read, so a file of huge images costs no memory.</summary>
    private static void CheckIdxHeader(string images)
    {
        using Stream s = IdxReader.OpenDecompressed(images);
        Span<byte> header = stackalloc byte[16];
        int got = s.ReadAtLeast(header, 16, throwOnEndOfStream: false);
        if (got == 16 && header[0] == 0 && header[1] == 0 && header[2] == 0x08 && header[3] == 3)
        {
            uint rows = BinaryPrimitives.ReadUInt32BigEndian(header[8..]), cols = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
            if (rows != Side || cols != Side)
                throw new InvalidDataException($"{images}: images are {rows}x{cols}, the model takes {Side}x{Side}");
        }
        // Anything else: IdxReader names the problem.
    }

    private static int ParseIndex(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            throw new InputException($"bad INDEX '{text}': an image index is a whole number 0, 1, 2, ...");
        return index;
    }

    private static Normalization ParseNorm(string text)
    {
        string[] ms = text.Split(',');
        if (ms.Length != 2
            || !float.TryParse(ms[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float mean)
            || !float.TryParse(ms[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float std))
            throw new InputException($"bad --norm '{text}': it takes MEAN,STD, e.g. 0.1307,0.3081");
        if (!float.IsFinite(mean) || !float.IsFinite(std) || std <= 0)
            throw new InputException($"bad --norm '{text}': MEAN must be finite and STD finite and positive");
        return new Normalization(mean, std);
    }

    private static double ParseBench(string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds > 0 && seconds <= 3600))
            throw new InputException($"bad --bench '{text}': it takes SECONDS, a number above 0 and at most 3600");
        return seconds;
    }

    private static bool IsIdx(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        return name.Contains("idx", StringComparison.Ordinal) || name.EndsWith(".gz", StringComparison.Ordinal) || name.EndsWith("ubyte", StringComparison.Ordinal);
    }

    private static string? LabelsBeside(string images)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(images))!;
        string name = Path.GetFileName(images);
        foreach (var (from, to) in new[] { ("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1") })
        {
            if (!name.Contains(from, StringComparison.Ordinal)) continue;
            string candidate = Path.Combine(dir, name.Replace(from, to, StringComparison.Ordinal));
            if (File.Exists(candidate)) return candidate;
            string other = candidate.EndsWith(".gz", StringComparison.Ordinal) ? candidate[..^3] : candidate + ".gz";
            if (File.Exists(other)) return other;
        }
        return null;
    }

    // Pixels 0..255 -> [0, 1] -> normalized, exactly as the training sample prepared them (MnistDataset.Load).
    private static float[] Input(ReadOnlySpan<byte> pixels, Normalization? norm)
    {
        float mean = norm?.Mean ?? 0f, invStd = 1f / (norm?.Std ?? 1f);
        var x = new float[pixels.Length];
        for (int i = 0; i < x.Length; i++) x[i] = norm is null ? pixels[i] / 255f : (pixels[i] / 255f - mean) * invStd;
        return x;
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    // The PyTorch tutorial's output: logits, softmax probabilities, the prediction (and the label when known).
    private static void Report(ICnnModel model, float[] x, int? label, TextWriter stdout)
    {
        var logits = new float[model.OutputSize];
        model.Forward(x, logits);
        double max = logits.Max();
        double[] e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        stdout.WriteLine(Line("Logits", logits.Select(l => (double)l)));
        stdout.WriteLine(Line("Probs", e.Select(v => v / sum)));
        stdout.WriteLine(Line("Pred", new double[] { ArgMax(logits) }, integer: true));
        if (label is int t) stdout.WriteLine(Line("True", new double[] { t }, integer: true));
    }

    // "Logits: -7.427, 8.698, ..." / " Probs:  0.000, 1.000, ...": labels right-aligned to 6 characters; a space
    // where the first value's minus sign would be.
    private static string Line(string label, IEnumerable<double> values, bool integer = false)
    {
        var texts = values.Select(v => integer ? ((int)v).ToString(CultureInfo.InvariantCulture) : (Math.Round(v, 3) == 0 ? 0.0 : v).ToString("F3", CultureInfo.InvariantCulture)).ToList();
        string first = texts[0].StartsWith('-') ? "" : " ";
        return label.PadLeft(6) + ": " + first + string.Join(", ", texts);
    }

    // Batch-1 latency: median of single-sample Forward calls after a warm-up (the method of bench/CnnGen.Bench).
    private static void Bench(ICnnModel model, float[] x, double seconds, TextWriter stdout)
    {
        var y = new float[model.OutputSize];
        for (int i = 0; i < 2000; i++) model.Forward(x, y);
        var us = new List<double>();
        double tick = 1e6 / Stopwatch.Frequency;
        var total = Stopwatch.StartNew();
        while (us.Count < 5000 || total.Elapsed.TotalSeconds < seconds)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Forward(x, y);
            us.Add((Stopwatch.GetTimestamp() - t0) * tick);
        }
        us.Sort();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $" Bench: batch-1 latency {us[us.Count / 2]:F2} µs (median of {us.Count:N0} calls; p10 {us[us.Count / 10]:F2}, p90 {us[us.Count * 9 / 10]:F2}); " +
            $"{(System.Runtime.JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "Native AOT")}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}"));
    }
}
