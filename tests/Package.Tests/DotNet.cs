using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;

namespace CnnGen.Package.Tests;

/// <summary>The result of one child process: exit code and stdout + stderr interleaved as they arrived.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Output, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    public override string ToString() =>
        $"$ {Command}\n(exit code {ExitCode}, {Elapsed.TotalSeconds:F1} s)\n{Output}";
}

/// <summary>
/// Runs the <c>dotnet</c> CLI as a child process, isolated from the test host's own build environment.
/// </summary>
public static class DotNet
{
    /// <summary>The dotnet executable that runs this test host, else the one on PATH.</summary>
    public static string Executable
    {
        get
        {
            string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }

    /// <summary>
    /// Runs <c>dotnet args...</c> in <paramref name="workingDirectory"/>. Build servers and node reuse are
    /// turned off: a server process that outlives the command would keep the output pipes open, and it
    /// could also serve a stale generator assembly to a later build.
    /// </summary>
    public static ProcessResult Run(
        string workingDirectory,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null) =>
        RunProgram(Executable, workingDirectory, args, environment, timeout);

    /// <summary>
    /// Runs any program (e.g. a published native executable) the way <see cref="Run(string, IEnumerable{string}, IReadOnlyDictionary{string, string?}?, TimeSpan?)"/>
    /// runs dotnet: output and errors captured together, a time limit, <paramref name="environment"/> entries with a null
    /// value removed from the child's environment.
    /// </summary>
    public static ProcessResult RunProgram(
        string fileName,
        string workingDirectory,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Isolate(psi, environment);

        string command = fileName + " " + string.Join(" ", psi.ArgumentList.Select(Quote)) + "   (in " + workingDirectory + ")";
        var output = new StringBuilder();
        var gate = new object();
        var sw = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (gate) { output.Append(e.Data).Append('\n'); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (gate) { output.Append(e.Data).Append('\n'); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(5);
        if (!process.WaitForExit((int)limit.TotalMilliseconds))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(10_000);
            lock (gate)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:F0} s:\n$ {command}\n{output}");
            }
        }
        process.WaitForExit(); // drain the asynchronous readers
        sw.Stop();
        lock (gate)
        {
            return new ProcessResult(command, process.ExitCode, output.ToString(), sw.Elapsed);
        }
    }

    /// <summary>
    /// The child-process environment of <see cref="RunProgram"/>: the outer test/MSBuild variables removed, no build
    /// servers, English messages, then <paramref name="environment"/> (a null value removes a variable).
    /// </summary>
    public static void Isolate(ProcessStartInfo psi, IReadOnlyDictionary<string, string?>? environment)
    {
        // Variables that the outer `dotnet test` / MSBuild sets for its own children would steer the
        // child build to the outer build's SDK state; drop them.
        foreach (string key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("_MSBUILDTLENABLED", StringComparison.OrdinalIgnoreCase))
            {
                psi.Environment.Remove(key);
            }
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["MSBUILDTERMINALLOGGER"] = "off";
        psi.Environment["UseSharedCompilation"] = "false"; // read by MSBuild as a property: no VBCSCompiler server
        if (environment != null)
        {
            foreach (var kv in environment)
            {
                if (kv.Value is null)
                {
                    psi.Environment.Remove(kv.Key);
                }
                else
                {
                    psi.Environment[kv.Key] = kv.Value;
                }
            }
        }
    }

    public static ProcessResult Run(string workingDirectory, params string[] args) =>
        Run(workingDirectory, args, null, null);

    private static string Quote(string s) => s.Length > 0 && s.IndexOfAny(new[] { ' ', '"', '\'' }) < 0 ? s : "\"" + s.Replace("\"", "\\\"") + "\"";
}
