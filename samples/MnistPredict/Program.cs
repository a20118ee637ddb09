using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen;
using CnnGen.Data;
using CnnGen.Samples.MnistPredict;

// mnist-predict: the DESIGN.md MNIST model with its trained weights compiled in. Published as a Native AOT
// executable it needs no .NET runtime, no weights file and no native library beside it.
//   mnist-predict digit.pgm [more.png ...]           classify images (28x28 grayscale, white digit on black, as MNIST)
//   mnist-predict t10k-images-idx3-ubyte.gz 42       classify image 42 of an IDX file (True: from the labels file)
//   mnist-predict t10k-images-idx3-ubyte.gz          accuracy over the whole set
const string Usage = """
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

// A Native AOT publish leaves an AVX-512 build beside this one (mnist-predict-avx512): switch to it when the CPU has
// AVX-512 (it doubles the kernels' FMA throughput). Returns at once everywhere else (JIT, no AVX-512, no copy).
NativeVariant.RunBestVariant();

var files = new List<string>();
string? labelsPath = null, weightsPath = null;
bool list = false;
double benchSeconds = 0;
Normalization? norm = Normalization.Mnist;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string a = args[i];
        string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{a} needs a value");
        switch (a)
        {
            case "-h": case "--help": Console.Write(Usage); return 0;
            case "--labels": labelsPath = Next(); break;
            case "--weights": weightsPath = Next(); break;
            case "--list": list = true; break;
            case "--raw": norm = null; break;
            case "--norm":
            {
                string[] ms = Next().Split(',');
                if (ms.Length != 2) throw new FormatException("--norm takes MEAN,STD");
                norm = new Normalization(float.Parse(ms[0], CultureInfo.InvariantCulture), float.Parse(ms[1], CultureInfo.InvariantCulture));
                break;
            }
            case "--bench": benchSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
            default:
                if (a.StartsWith("--", StringComparison.Ordinal)) throw new FormatException($"unknown option {a}");
                files.Add(a);
                break;
        }
    }
    if (files.Count == 0) { Console.Error.Write(Usage); return 2; }

    var model = new MnistCnn();                // starts with the compiled-in weights
    if (weightsPath is not null) model.LoadWeights(weightsPath);

    if (IsIdx(files[0]))
    {
        if (files.Count > 2) throw new FormatException("an IDX file takes at most one index");
        string images = files[0];
        byte[] pixels = IdxReader.ReadImages(images, out int count, out int rows, out int cols);
        if (rows != 28 || cols != 28) throw new InvalidDataException($"{images}: images are {rows}x{cols}, the model takes 28x28");
        labelsPath ??= LabelsBeside(images);
        byte[]? labels = labelsPath is null ? null : IdxReader.ReadLabels(labelsPath);
        if (labels is not null && labels.Length != count) throw new InvalidDataException($"{labelsPath} holds {labels.Length} labels for {count} images");
        if (files.Count == 2)
        {
            int index = int.Parse(files[1], CultureInfo.InvariantCulture);
            if (index < 0 || index >= count) throw new ArgumentOutOfRangeException("INDEX", index, $"{images} holds images 0..{count - 1}");
            float[] x = Input(pixels.AsSpan(index * 784, 784), norm);
            Report(model, x, labels?[index]);
            if (benchSeconds > 0) Bench(model, x, benchSeconds);
            return 0;
        }
        // The whole set, in batches.
        const int Batch = 100;
        var input = new float[Batch * 784];
        var logits = new float[Batch * 10];
        int correct = 0;
        var output = new StringBuilder();
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            for (int s = 0; s < n; s++) Input(pixels.AsSpan((start + s) * 784, 784), norm).CopyTo(input, s * 784);
            model.Forward(input, logits, n);
            for (int s = 0; s < n; s++)
            {
                int pred = ArgMax(logits.AsSpan(s * 10, 10));
                if (labels is not null && labels[start + s] == pred) correct++;
                if (list) output.Append(start + s).Append(' ').Append(pred).Append('\n');
            }
        }
        Console.Write(output);
        if (labels is not null)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Accuracy: {correct}/{count} = {100.0 * correct / count:F2}%"));
        else
            Console.WriteLine($"Classified {count} images (no labels file found; --labels FILE gives the accuracy)");
        return 0;
    }

    bool first = true;
    foreach (string file in files)
    {
        GrayImage image = Images.Read(file);
        if (image.Width != 28 || image.Height != 28)
            throw new InvalidDataException($"{file}: the image is {image.Width}x{image.Height}, the model takes 28x28 (MNIST's size: a white digit on black)");
        if (files.Count > 1) Console.WriteLine((first ? "" : "\n") + file + ":");
        float[] x = Input(image.Pixels, norm);
        Report(model, x, null);
        if (first && benchSeconds > 0) Bench(model, x, benchSeconds);
        first = false;
    }
    return 0;
}
catch (Exception ex) when (ex is IOException or FormatException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine("mnist-predict: " + ex.Message);
    return 1;
}

static bool IsIdx(string path)
{
    string name = Path.GetFileName(path).ToLowerInvariant();
    return name.Contains("idx", StringComparison.Ordinal) || name.EndsWith(".gz", StringComparison.Ordinal) || name.EndsWith("ubyte", StringComparison.Ordinal);
}

static string? LabelsBeside(string images)
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
static float[] Input(ReadOnlySpan<byte> pixels, Normalization? norm)
{
    float mean = norm?.Mean ?? 0f, invStd = 1f / (norm?.Std ?? 1f);
    var x = new float[pixels.Length];
    for (int i = 0; i < x.Length; i++) x[i] = norm is null ? pixels[i] / 255f : (pixels[i] / 255f - mean) * invStd;
    return x;
}

static int ArgMax(ReadOnlySpan<float> v)
{
    int best = 0;
    for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
    return best;
}

// The PyTorch tutorial's output: logits, softmax probabilities, the prediction (and the label when known).
static void Report(MnistCnn model, float[] x, int? label)
{
    var logits = new float[MnistCnn.OutputSize];
    model.Forward(x, logits);
    double max = logits.Max();
    double[] e = logits.Select(l => Math.Exp(l - max)).ToArray();
    double sum = e.Sum();
    Console.WriteLine(Line("Logits", logits.Select(l => (double)l)));
    Console.WriteLine(Line("Probs", e.Select(v => v / sum)));
    Console.WriteLine(Line("Pred", new double[] { ArgMax(logits) }, integer: true));
    if (label is int t) Console.WriteLine(Line("True", new double[] { t }, integer: true));
}

// "Logits: -7.427, 8.698, ..." / " Probs:  0.000, 1.000, ...": labels right-aligned to 6 characters; a space
// where the first value's minus sign would be.
static string Line(string label, IEnumerable<double> values, bool integer = false)
{
    var texts = values.Select(v => integer ? ((int)v).ToString(CultureInfo.InvariantCulture) : (Math.Round(v, 3) == 0 ? 0.0 : v).ToString("F3", CultureInfo.InvariantCulture)).ToList();
    string first = texts[0].StartsWith('-') ? "" : " ";
    return label.PadLeft(6) + ": " + first + string.Join(", ", texts);
}

// Batch-1 latency: median of single-sample Forward calls after a warm-up (the method of bench/CnnGen.Bench).
static void Bench(MnistCnn model, float[] x, double seconds)
{
    var y = new float[MnistCnn.OutputSize];
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
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $" Bench: batch-1 latency {us[us.Count / 2]:F2} µs (median of {us.Count:N0} calls; p10 {us[us.Count / 10]:F2}, p90 {us[us.Count * 9 / 10]:F2}); " +
        $"{(System.Runtime.JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "Native AOT")}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}"));
}

/// <summary>The DESIGN.md model, exactly as samples/Mnist trains it, with the trained weights compiled in.</summary>
[Model(Weights = "mnist.safetensors")]
[Input(1, 28, 28)]                          // channels, height, width (one sample)
[Conv2d(1, 16, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
[Conv2d(16, 32, 3)]
[ReLU]
[MaxPool2d(2, Stride = 2, Padding = 1)]
[Flatten]
[Linear(7 * 7 * 32, 32)]
[ReLU]
[Dropout(0.3)]
[Linear(32, 10)]
public partial class MnistCnn { }
