using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace CnnGen.Package.Tests;

/// <summary>
/// samples/MnistPredict (the native predictor of `./build.sh predictor`, outside CnnGen.sln because it needs trained
/// weights) published with Native AOT from this checkout, with a PyTorch-written state_dict of the same model compiled in
/// (the parity fixture model_a.weights.safetensors: untrained, but real PyTorch output), into its own artifacts folder.
/// Run with no dotnet on PATH and DOTNET_ROOT unset, it must classify a PGM, the same pixels as PNG and as image 0 of
/// an IDX file identically, in the PyTorch tutorial's format, and report the accuracy over an IDX file.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class PredictorTests
{
    private readonly PackageFixture _package;

    public PredictorTests(PackageFixture package) => _package = package;

    private static readonly Regex Floats = new(@"^(?<label> ?[A-Za-z]+): (?<values> ?-?[0-9]+\.[0-9]{3}(, -?[0-9]+\.[0-9]{3}){9})$");

    [Fact]
    public void Mnist_predict_publishes_with_native_aot_and_reads_pgm_png_and_idx()
    {
        string repo = _package.RepoRoot;
        string weights = Path.Combine(repo, "tests", "Runtime.Tests", "Fixtures", "parity", "models", "model_a.weights.safetensors");
        string images = Path.Combine(repo, "tests", "Runtime.Tests", "Fixtures", "images");
        string outDir = Path.Combine(_package.TempRoot, "predictor");
        ProcessResult publish = DotNet.Run(repo, new[]
        {
            "publish", Path.Combine("samples", "MnistPredict", "MnistPredict.csproj"), "-c", "Release",
            "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
            "--artifacts-path", Path.Combine(_package.TempRoot, "predictor-artifacts"),
            "-p:MnistWeights=" + weights, "-o", outDir, "-nodeReuse:false", "-v:minimal",
        }, null, TimeSpan.FromMinutes(8));
        Assert.True(publish.Succeeded, publish.ToString());
        Assert.False(Regex.IsMatch(publish.Output, @"warning [A-Z]+[0-9]+"), "publish warned:\n" + publish);
        string exe = Path.Combine(outDir, OperatingSystem.IsWindows() ? "mnist-predict.exe" : "mnist-predict");

        // An IDX pair written here: image 0 = the fixture's pixels, image 1 black, image 2 white; labels 7, 0, 1.
        string work = Path.Combine(_package.TempRoot, "predictor-run");
        Directory.CreateDirectory(work);
        byte[] pixels = File.ReadAllBytes(Path.Combine(images, "expected.gray"));
        byte[] idx = new byte[] { 0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28 }
            .Concat(pixels).Concat(new byte[784]).Concat(Enumerable.Repeat((byte)255, 784)).ToArray();
        File.WriteAllBytes(Path.Combine(work, "t10k-images-idx3-ubyte"), idx);
        File.WriteAllBytes(Path.Combine(work, "t10k-labels-idx1-ubyte"), new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 1 });

        var bare = new Dictionary<string, string?> { ["PATH"] = "/nonexistent-cnngen-path", ["DOTNET_ROOT"] = null, ["DOTNET_HOST_PATH"] = null };
        ProcessResult Run(params string[] args)
        {
            ProcessResult r = DotNet.RunProgram(exe, work, args, bare, TimeSpan.FromMinutes(1));
            Assert.True(r.Succeeded, r.ToString());
            return r;
        }

        string pgm = Run(Path.Combine(images, "digit.pgm")).Output;
        string[] lines = pgm.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Match logits = Floats.Match(lines[0]), probs = Floats.Match(lines[1]);
        Assert.True(logits.Success && logits.Groups["label"].Value == "Logits", lines[0]);
        Assert.True(probs.Success && probs.Groups["label"].Value == " Probs", lines[1]);
        double[] l = logits.Groups["values"].Value.Split(", ").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        double[] p = probs.Groups["values"].Value.Split(", ").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(p.Sum(), 0.99, 1.01);
        double max = l.Max();
        double[] softmax = l.Select(v => Math.Exp(v - max)).ToArray();
        for (int i = 0; i < 10; i++) Assert.InRange(p[i], softmax[i] / softmax.Sum() - 0.002, softmax[i] / softmax.Sum() + 0.002);
        int pred = Array.IndexOf(l, max);
        Assert.Equal($"  Pred:  {pred}", lines[2]);

        // The same pixels as PNG, and as image 0 of the IDX file (then with the label).
        Assert.Equal(pgm, Run(Path.Combine(images, "gray8.png")).Output);
        Assert.Equal(pgm + "  True:  7\n", Run("t10k-images-idx3-ubyte", "0").Output);

        // The whole IDX file: every prediction, then the accuracy against the labels beside it.
        string all = Run("t10k-images-idx3-ubyte", "--list").Output;
        string[] rows = all.TrimEnd('\n').Split('\n');
        Assert.Equal(4, rows.Length);
        Assert.Equal($"0 {pred}", rows[0]);
        int[] preds = rows.Take(3).Select(r => int.Parse(r.Split(' ')[1], CultureInfo.InvariantCulture)).ToArray();
        int correct = new[] { 7, 0, 1 }.Zip(preds, (a, b) => a == b ? 1 : 0).Sum();
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"Accuracy: {correct}/3 = {100.0 * correct / 3:F2}%"), rows[3]);

        // Bad input: one line naming the file and the problem, exit code 2, never a crash (the whole corpus of odd inputs is
        // tests/Runtime.Tests/Samples/PredictorCliTests.cs; here the native executable's handling of two of them).
        ProcessResult missing = DotNet.RunProgram(exe, work, new[] { "nothing.pgm" }, bare, TimeSpan.FromMinutes(1));
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("mnist-predict: nothing.pgm: no such image", missing.Output.Trim());
        File.WriteAllBytes(Path.Combine(work, "corrupt.png"), new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13, (byte)'I', (byte)'H' });
        ProcessResult corrupt = DotNet.RunProgram(exe, work, new[] { "corrupt.png" }, bare, TimeSpan.FromMinutes(1));
        Assert.Equal(2, corrupt.ExitCode);
        Assert.StartsWith("mnist-predict: corrupt.png: ", corrupt.Output.Trim());
        Assert.DoesNotContain("\n", corrupt.Output.Trim());
    }
}
