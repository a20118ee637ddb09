using System;
using System.IO;
using System.Linq;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary><c>dotnet pack CnnGen.sln</c> makes two packages: only src/Runtime (the <c>CnnGen</c> package) and src/Tool (the
/// <c>CnnGen.Tool</c> dotnet tool, <c>cnngen</c>) are packable.</summary>
[Collection(PackageCollection.Name)]
public sealed class PackabilityTests
{
    private readonly PackageFixture _package;

    public PackabilityTests(PackageFixture package) => _package = package;

    [Fact]
    public void Only_the_CnnGen_and_CnnGen_Tool_projects_of_the_solution_are_packable()
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
        Assert.Equal(new[] { "src/Runtime/CnnGen.Runtime.csproj", "src/Tool/CnnGen.Tool.csproj" }, packable.OrderBy(p => p, StringComparer.Ordinal));
        ProcessResult tool = DotNet.Run(_package.RepoRoot, "msbuild", "src/Tool/CnnGen.Tool.csproj", "-getProperty:PackAsTool", "-getProperty:ToolCommandName", "-nodeReuse:false");
        Assert.True(tool.Succeeded, tool.ToString());
        Assert.Contains("\"PackAsTool\": \"true\"", tool.Output);
        Assert.Contains("\"ToolCommandName\": \"cnngen\"", tool.Output);
        Assert.True(File.Exists(_package.NupkgPath));
    }
}
