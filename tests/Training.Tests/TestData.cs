using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using CnnGen.Data;

namespace CnnGen.Training.Tests;

/// <summary>
/// The shared MNIST copy: the repository root is the directory holding CnnGen.sln, found by walking up from
/// AppContext.BaseDirectory (then from this source file's compile-time path, for --artifacts-path builds outside the
/// repository); the data is in ../shared/data/mnist next to it. Loaded once per test run.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<LabeledData> s_train = new(() => LabeledData.From(MnistDataset.LoadTrain(MnistDir)));
    private static readonly Lazy<LabeledData> s_test = new(() => LabeledData.From(MnistDataset.LoadTest(MnistDir)));

    public static string MnistDir => Path.GetFullPath(Path.Combine(FindRepoRoot(), "..", "shared", "data", "mnist"));

    public static LabeledData Train => s_train.Value;

    public static LabeledData Test => s_test.Value;

    private static string FindRepoRoot([CallerFilePath] string sourceFile = "")
    {
        var starts = new List<string> { AppContext.BaseDirectory };
        if (!string.IsNullOrEmpty(sourceFile))
            starts.Add(Path.GetDirectoryName(sourceFile)!);
        foreach (string start in starts)
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln")))
                    return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No CnnGen.sln above any of: {string.Join(", ", starts)}.");
    }
}

/// <summary>A temporary directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cnngen-training-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
