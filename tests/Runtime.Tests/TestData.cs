using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;

namespace CnnGen.Runtime.Tests;

/// <summary>
/// Locates shared test inputs: the repository root is the directory holding CnnGen.sln, found by walking up from
/// AppContext.BaseDirectory (then, for builds with --artifacts-path outside the repo, from this source file's
/// compile-time path, then from the current directory); data sets are in ../shared/data next to it.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string> s_repoRoot = new(() => FindRepoRoot());

    /// <summary>The repository root (the directory containing CnnGen.sln).</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>The shared data directory: &lt;repo&gt;/../shared/data (holds mnist/ and fashion-mnist/).</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>The shared MNIST directory.</summary>
    public static string Mnist => Path.Combine(SharedData, "mnist");

    /// <summary>The shared Fashion-MNIST directory.</summary>
    public static string FashionMnist => Path.Combine(SharedData, "fashion-mnist");

    private static string FindRepoRoot([CallerFilePath] string sourceFile = "")
    {
        var starts = new List<string> { AppContext.BaseDirectory };
        if (!string.IsNullOrEmpty(sourceFile))
            starts.Add(Path.GetDirectoryName(sourceFile)!);
        starts.Add(Directory.GetCurrentDirectory());
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
