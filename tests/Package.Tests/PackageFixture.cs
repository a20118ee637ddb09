using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// Packs src/Runtime (the one `CnnGen` package) once per test run into a temp local feed, and makes
/// throwaway consumer projects that restore it from there. Everything lives under one temp directory
/// (deleted at the end unless CNNGEN_KEEP_TEMP=1):
/// <c>artifacts/</c> (the pack's own --artifacts-path, so it never touches other builds),
/// <c>feed/</c> (the .nupkg), <c>packages/</c> (NUGET_PACKAGES for the consumers, so a CnnGen package
/// of the same version cached by an earlier run is never reused), and one folder per consumer.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public const string PackageId = "CnnGen";

    public string RepoRoot { get; }
    public string TempRoot { get; }
    public string FeedDirectory { get; }
    public string PackagesDirectory { get; }
    public string NupkgPath { get; }
    public string PackageVersion { get; }
    public ProcessResult PackResult { get; }

    public PackageFixture()
    {
        RepoRoot = FindRepoRoot();
        TempRoot = Path.Combine(Path.GetTempPath(), "cnngen-package-tests-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        FeedDirectory = Path.Combine(TempRoot, "feed");
        PackagesDirectory = Path.Combine(TempRoot, "packages");
        Directory.CreateDirectory(FeedDirectory);
        Directory.CreateDirectory(PackagesDirectory);

        // Stop MSBuild's upward search for Directory.Build.* at the temp root.
        File.WriteAllText(Path.Combine(TempRoot, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(TempRoot, "Directory.Build.targets"), "<Project />\n");

        string project = Path.Combine(RepoRoot, "src", "Runtime", "CnnGen.Runtime.csproj");
        PackResult = DotNet.Run(RepoRoot, new[]
        {
            "pack", project,
            "-c", "Release",
            "-o", FeedDirectory,
            "--artifacts-path", Path.Combine(TempRoot, "artifacts"),
            "-nodeReuse:false", "-v:minimal",
        }, null, TimeSpan.FromMinutes(5));
        if (!PackResult.Succeeded)
        {
            throw new InvalidOperationException("dotnet pack of src/Runtime failed:\n" + PackResult);
        }

        string[] packages = Directory.GetFiles(FeedDirectory, PackageId + ".*.nupkg")
            .Where(p => !p.EndsWith(".symbols.nupkg", StringComparison.OrdinalIgnoreCase) && !p.EndsWith(".snupkg", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (packages.Length != 1)
        {
            throw new InvalidOperationException(
                $"expected exactly one {PackageId}.<version>.nupkg in {FeedDirectory}, found: " +
                string.Join(", ", Directory.GetFiles(FeedDirectory).Select(Path.GetFileName)) + "\n" + PackResult);
        }
        NupkgPath = packages[0];
        string name = Path.GetFileNameWithoutExtension(NupkgPath);
        PackageVersion = name.Substring(PackageId.Length + 1);
    }

    /// <summary>
    /// Creates <c>TempRoot/name/</c> with a nuget.config (local feed for CnnGen, nuget.org for the rest),
    /// a console project with one PackageReference to CnnGen, and the given Program.cs.
    /// </summary>
    public string CreateConsumer(string name, string programCs, string extraProjectXml = "")
    {
        string dir = Path.Combine(TempRoot, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="cnngen-local" value="{FeedDirectory}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="cnngen-local">
                  <package pattern="{PackageId}" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>

            """);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackageId}" Version="{PackageVersion}" />
              </ItemGroup>
            {extraProjectXml}
            </Project>

            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), programCs);
        return dir;
    }

    /// <summary><c>dotnet build -c Release -o out</c> in a consumer folder (restores first).</summary>
    public ProcessResult BuildConsumer(string dir) =>
        DotNet.Run(dir, new[] { "build", "-c", "Release", "-o", Path.Combine(dir, "out"), "-nodeReuse:false", "-v:minimal" },
            ConsumerEnvironment, TimeSpan.FromMinutes(4));

    /// <summary>Runs the consumer built by <see cref="BuildConsumer"/>.</summary>
    public ProcessResult RunConsumer(string dir, string name) =>
        DotNet.Run(dir, new[] { Path.Combine(dir, "out", name + ".dll") }, ConsumerEnvironment, TimeSpan.FromMinutes(2));

    /// <summary>The environment of consumer builds: NUGET_PACKAGES in the temp folder.</summary>
    public IReadOnlyDictionary<string, string?> ConsumerEnvironment => new Dictionary<string, string?>
    {
        ["NUGET_PACKAGES"] = PackagesDirectory,
    };

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("CNNGEN_KEEP_TEMP") == "1")
        {
            return;
        }
        try
        {
            Directory.Delete(TempRoot, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The repository: CNNGEN_REPO_ROOT, else the path baked in at build time (the test binary may live
    /// under an --artifacts-path outside the repo), else the first parent of the test binary or of the
    /// current directory that holds CnnGen.sln.
    /// </summary>
    private static string FindRepoRoot()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("CNNGEN_REPO_ROOT"),
            typeof(PackageFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "CnnGenRepoRoot")?.Value,
        };
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                candidates.Add(d.FullName);
            }
        }
        foreach (string? c in candidates)
        {
            if (!string.IsNullOrEmpty(c) && File.Exists(Path.Combine(c, "CnnGen.sln")) &&
                File.Exists(Path.Combine(c, "src", "Runtime", "CnnGen.Runtime.csproj")))
            {
                return Path.GetFullPath(c);
            }
        }
        throw new InvalidOperationException("CnnGen repository root not found; set CNNGEN_REPO_ROOT.");
    }
}

[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageFixture>
{
    public const string Name = "CnnGen package";
}
