using System;
using System.IO;
using System.Linq;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary><c>dotnet pack CnnGen.sln</c> makes one package: only src/Runtime (the <c>CnnGen</c> package) is packable.</summary>
[Collection(PackageCollection.Name)]
public sealed class PackabilityTests
{
    private readonly PackageFixture _package;

    public PackabilityTests(PackageFixture package) => _package = package;

    [Fact]
    public void Only_the_CnnGen_project_of_the_solution_is_packable()
    {
        ProcessResult list = DotNet.Run(_package.RepoRoot, "sln", "CnnGen.sln", "list");
        Assert.True(list.Succeeded, list.ToString());
        string[] projects = list.Output.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim().Replace('\\', '/'))
            .Where(l => l.EndsWith(".csproj", StringComparison.Ordinal)).ToArray();
        Assert.Contains("src/Runtime/CnnGen.Runtime.csproj", projects);
        Assert.Contains(projects, p => p.StartsWith("samples/", StringComparison.Ordinal));

        var packable = projects.Where(p =>
        {
            ProcessResult r = DotNet.Run(_package.RepoRoot, "msbuild", p, "-getProperty:IsPackable", "-nodeReuse:false");
            Assert.True(r.Succeeded, r.ToString());
            string value = r.Output.Trim().Split('\n').Last().Trim();
            Assert.True(value is "true" or "false", $"{p}: IsPackable is '{value}'\n{r}");
            return value == "true";
        }).ToArray();
        Assert.Equal(new[] { "src/Runtime/CnnGen.Runtime.csproj" }, packable);
        Assert.True(File.Exists(_package.NupkgPath));
    }
}
