using System;
using System.Collections.Generic;
using System.IO;

namespace CnnGen.Data;

/// <summary>Per-channel input normalization: x' = (x - Mean) / Std, applied after scaling pixels to [0, 1] (torchvision's <c>Normalize</c>).</summary>
/// <param name="Mean">The value subtracted.</param>
/// <param name="Std">The divisor; must be positive.</param>
public readonly record struct Normalization(float Mean, float Std)
{
    /// <summary>The MNIST training set's pixel mean and standard deviation, (0.1307, 0.3081), as in the PyTorch MNIST example.</summary>
    public static Normalization Mnist => new(0.1307f, 0.3081f);

    /// <summary>The Fashion-MNIST training set's pixel mean and standard deviation, (0.2860, 0.3530).</summary>
    public static Normalization FashionMnist => new(0.2860f, 0.3530f);
}

/// <summary>
/// An MNIST-layout data set (MNIST, Fashion-MNIST): 28x28 single-channel images as NCHW floats in [0, 1]
/// (optionally normalized), with integer labels.
/// </summary>
public sealed class MnistDataset
{
    /// <summary>The ten MNIST class names, "0" to "9".</summary>
    public static IReadOnlyList<string> DigitClassNames { get; } = new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

    /// <summary>The ten Fashion-MNIST class names, in label order.</summary>
    public static IReadOnlyList<string> FashionClassNames { get; } = new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    private MnistDataset(float[] images, int[] labels, int count, int rows, int cols, string[] classNames)
    {
        Images = images;
        Labels = labels;
        Count = count;
        Rows = rows;
        Cols = cols;
        ClassNames = classNames;
    }

    /// <summary>All images, N x 1 x Rows x Cols, row-major, image after image.</summary>
    public float[] Images { get; }

    /// <summary>One label per image, in [0, ClassNames.Length).</summary>
    public int[] Labels { get; }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The image height (28).</summary>
    public int Rows { get; }

    /// <summary>The image width (28).</summary>
    public int Cols { get; }

    /// <summary>The number of channels (1).</summary>
    public int Channels => 1;

    /// <summary>Floats per image: Channels * Rows * Cols.</summary>
    public int SampleSize => Rows * Cols;

    /// <summary>The class names, indexed by label.</summary>
    public string[] ClassNames { get; }

    /// <summary>Image <paramref name="index"/>'s pixels (1 x Rows x Cols).</summary>
    /// <param name="index">The sample index.</param>
    /// <returns>A view into <see cref="Images"/>.</returns>
    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(checked(index * SampleSize), SampleSize);

    /// <summary>Loads the training split (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]) from <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory holding the files.</param>
    /// <param name="normalization">Optional normalization applied after scaling to [0, 1].</param>
    /// <param name="classNames">The class names; defaults to the digits 0-9.</param>
    /// <returns>The data set.</returns>
    public static MnistDataset LoadTrain(string directory, Normalization? normalization = null, IReadOnlyList<string>? classNames = null) =>
        Load(FindFile(directory, "train-images-idx3-ubyte"), FindFile(directory, "train-labels-idx1-ubyte"), normalization, classNames);

    /// <summary>Loads the test split (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) from <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory holding the files.</param>
    /// <param name="normalization">Optional normalization applied after scaling to [0, 1].</param>
    /// <param name="classNames">The class names; defaults to the digits 0-9.</param>
    /// <returns>The data set.</returns>
    public static MnistDataset LoadTest(string directory, Normalization? normalization = null, IReadOnlyList<string>? classNames = null) =>
        Load(FindFile(directory, "t10k-images-idx3-ubyte"), FindFile(directory, "t10k-labels-idx1-ubyte"), normalization, classNames);

    /// <summary>
    /// Finds a named data set ("mnist" or "fashion-mnist") with <see cref="DataLocator"/> and loads one split, with that
    /// data set's class names.
    /// </summary>
    /// <param name="datasetName">"mnist" or "fashion-mnist".</param>
    /// <param name="train">True for the training split, false for the test split.</param>
    /// <param name="dataDirectory">An explicit directory (a <c>--data</c> option), looked in first; may be null.</param>
    /// <param name="normalization">Optional normalization applied after scaling to [0, 1].</param>
    /// <returns>The data set.</returns>
    public static MnistDataset Load(string datasetName, bool train, string? dataDirectory = null, Normalization? normalization = null)
    {
        string dir = DataLocator.Locate(datasetName, dataDirectory);
        IReadOnlyList<string> names = ClassNamesFor(datasetName);
        return train ? LoadTrain(dir, normalization, names) : LoadTest(dir, normalization, names);
    }

    /// <summary>The class names of a known data set: the digits for "mnist", clothing names for "fashion-mnist".</summary>
    /// <param name="datasetName">"mnist" or "fashion-mnist".</param>
    /// <returns>Ten names in label order.</returns>
    public static IReadOnlyList<string> ClassNamesFor(string datasetName) =>
        DataLocator.Normalize(datasetName) == "fashion-mnist" ? FashionClassNames : DigitClassNames;

    /// <summary>Loads an images file and a labels file (raw or gzipped IDX) and checks that they agree.</summary>
    /// <param name="imagesPath">The images file (IDX, u8, 3 dimensions).</param>
    /// <param name="labelsPath">The labels file (IDX, u8, 1 dimension).</param>
    /// <param name="normalization">Optional normalization applied after scaling to [0, 1].</param>
    /// <param name="classNames">The class names; defaults to the digits 0-9. Every label must be below their count.</param>
    /// <returns>The data set.</returns>
    public static MnistDataset Load(string imagesPath, string labelsPath, Normalization? normalization = null, IReadOnlyList<string>? classNames = null)
    {
        string[] names = classNames is null ? [.. DigitClassNames] : [.. classNames];
        if (names.Length == 0)
            throw new ArgumentException("At least one class name is needed.", nameof(classNames));
        if (normalization is { } nz && !(nz.Std > 0))
            throw new ArgumentOutOfRangeException(nameof(normalization), nz.Std, "The standard deviation must be positive.");

        byte[] pixels = IdxReader.ReadImages(imagesPath, out int count, out int rows, out int cols);
        byte[] labelBytes = IdxReader.ReadLabels(labelsPath);
        if (labelBytes.Length != count)
            throw new InvalidDataException(
                $"{Path.GetFileName(imagesPath)} holds {count} images but {Path.GetFileName(labelsPath)} holds {labelBytes.Length} labels; they must pair up one to one.");

        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = labelBytes[i];
            if (label >= names.Length)
                throw new InvalidDataException($"{Path.GetFileName(labelsPath)}: label {label} at index {i} is outside 0..{names.Length - 1}.");
            labels[i] = label;
        }

        // Lookup table: byte -> float, with scaling and normalization folded in.
        Span<float> table = stackalloc float[256];
        float mean = normalization?.Mean ?? 0f, invStd = 1f / (normalization?.Std ?? 1f);
        for (int v = 0; v < 256; v++)
            table[v] = normalization is null ? v / 255f : (v / 255f - mean) * invStd;
        var images = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            images[i] = table[pixels[i]];
        return new MnistDataset(images, labels, count, rows, cols, names);
    }

    /// <summary>
    /// The file for <paramref name="baseName"/> in <paramref name="directory"/>: <c>name.gz</c>, <c>name</c>, or the
    /// <c>train-images.idx3-ubyte</c> spelling some mirrors use.
    /// </summary>
    /// <param name="directory">Where to look.</param>
    /// <param name="baseName">E.g. <c>train-images-idx3-ubyte</c>.</param>
    /// <returns>The path, or null.</returns>
    public static string? TryFindFile(string directory, string baseName)
    {
        foreach (string candidate in FileCandidates(baseName))
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    internal static IEnumerable<string> FileCandidates(string baseName)
    {
        yield return baseName + ".gz";
        yield return baseName;
        int dash = baseName.LastIndexOf("-idx", StringComparison.Ordinal);
        if (dash > 0)
        {
            string dotted = baseName.Substring(0, dash) + "." + baseName.Substring(dash + 1);
            yield return dotted + ".gz";
            yield return dotted;
        }
    }

    private static string FindFile(string directory, string baseName) =>
        TryFindFile(directory, baseName)
        ?? throw new FileNotFoundException($"No {baseName}.gz or {baseName} in {Path.GetFullPath(directory)}.", Path.Combine(directory, baseName + ".gz"));
}
