using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// The git-derived version of Directory.Build.targets (docs/building.md, "Versions"), on a throwaway repository that
/// holds the real Directory.Build.targets and one project under src/: no git, clean, dirty, dirty outside the package.
/// </summary>
public sealed class VersionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cnngen-version-tests-" + Guid.NewGuid().ToString("N").Substring(0, 12));

    public VersionTests()
    {
        string repo = PackageFixtureRepoRoot();
        Directory.CreateDirectory(Path.Combine(_root, "src", "P"));
        Directory.CreateDirectory(Path.Combine(_root, "tests"));
        File.Copy(Path.Combine(repo, "Directory.Build.targets"), Path.Combine(_root, "Directory.Build.targets"));
        // A plain MSBuild project (no SDK, no restore) that imports the targets as the SDK would.
        File.WriteAllText(Path.Combine(_root, "src", "P", "P.proj"), """
            <Project>
              <Import Project="../../Directory.Build.targets" />
              <Target Name="Show" DependsOnTargets="CnnGenComputeVersion">
                <Message Importance="high" Text="VERSION=$(Version)|$(PackageVersion)|$(AssemblyVersion)|$(InformationalVersion)" />
              </Target>
            </Project>
            """);
        File.WriteAllText(Path.Combine(_root, "src", "P", "a.cs"), "// a\n");
        File.WriteAllText(Path.Combine(_root, "tests", "t.txt"), "t\n");
    }

    private static string PackageFixtureRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CnnGen.sln")))
                return d.FullName;
        string? env = Environment.GetEnvironmentVariable("CNNGEN_REPO_ROOT");
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var a in typeof(VersionTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
            if (a is System.Reflection.AssemblyMetadataAttribute m && m.Key == "CnnGenRepoRoot" && m.Value != null) return m.Value;
        throw new InvalidOperationException("repository root not found");
    }

    private string Version()
    {
        // GIT_CEILING_DIRECTORIES: git must not find a repository above the temp folder ("no git" means none).
        var env = new Dictionary<string, string?> { ["GIT_CEILING_DIRECTORIES"] = Path.GetDirectoryName(_root) };
        ProcessResult r = DotNet.Run(Path.Combine(_root, "src", "P"), new[] { "msbuild", "P.proj", "-t:Show", "-nologo", "-v:m", "-nodeReuse:false" },
            env, TimeSpan.FromMinutes(2));
        Assert.True(r.Succeeded, r.ToString());
        int at = r.Output.IndexOf("VERSION=", StringComparison.Ordinal);
        Assert.True(at >= 0, r.ToString());
        string line = r.Output.Substring(at + "VERSION=".Length).Split('\n')[0].Trim();
        string[] parts = line.Split('|');
        Assert.Equal(parts[0], parts[1]);                                 // PackageVersion = Version
        Assert.Equal(parts[0].Split('-')[0] + ".0", parts[2]);            // AssemblyVersion = major.minor.height.0
        Assert.Equal(parts[0], parts[3]);                                 // InformationalVersion (the SDK appends +commit)
        return parts[0];
    }

    private void Git(params string[] args)
    {
        var all = new List<string> { "-c", "user.name=CnnGen Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false" };
        all.AddRange(args);
        ProcessResult r = DotNet.RunProgram("git", _root, all, null, TimeSpan.FromMinutes(1));
        Assert.True(r.Succeeded, r.ToString());
    }

    [Fact]
    public void Version_follows_the_commit_height_and_the_newest_uncommitted_change_to_the_package()
    {
        Assert.Equal("0.2.0-nogit", Version());

        Git("init", "-q");
        Git("add", "-A");
        Git("commit", "-q", "-m", "one");
        File.AppendAllText(Path.Combine(_root, "src", "P", "a.cs"), "// two\n");
        Git("commit", "-q", "-am", "two");
        Assert.Equal("0.2.2", Version());

        // An edit outside the package's inputs (tests/) leaves the version alone.
        File.AppendAllText(Path.Combine(_root, "tests", "t.txt"), "changed\n");
        Assert.Equal("0.2.2", Version());

        // An untracked file under src/: its modification time is the stamp.
        string added = Path.Combine(_root, "src", "P", "b.cs");
        File.WriteAllText(added, "// b\n");
        File.SetLastWriteTimeUtc(added, new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        Assert.Equal("0.2.2-dev.20300102030405", Version());

        // A newer edit of a tracked file wins; the same state gives the same version again.
        string tracked = Path.Combine(_root, "src", "P", "a.cs");
        File.AppendAllText(tracked, "// three\n");
        File.SetLastWriteTimeUtc(tracked, new DateTime(2031, 6, 7, 8, 9, 10, DateTimeKind.Utc));
        Assert.Equal("0.2.2-dev.20310607080910", Version());
        Assert.Equal("0.2.2-dev.20310607080910", Version());

        // Committed: clean again, one commit higher, above every -dev version of the height before.
        Git("add", "-A");
        Git("commit", "-q", "-m", "three");
        Assert.Equal("0.2.3", Version());
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
