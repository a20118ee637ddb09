using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using CnnGen.Generator.Tests;
using Xunit;

namespace CnnGen.Tool.Tests;

/// <summary>
/// import(export(m)) gives m's declaration: a declaration (in the importer's style: blocks named ClassBlockN/ClassShortcutN,
/// weighted layers named) is compiled, exported with its generated ExportOnnx, imported, and the written .cs equals the
/// original. Normalised: the importer's two header comment lines are dropped and line endings/trailing blanks trimmed;
/// nothing else (layer list, arguments, names, block classes are compared as text).
/// </summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cnngen-roundtrip-" + Guid.NewGuid().ToString("N"));

    public RoundTripTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private const string Sequential = """
        using CnnGen;

        namespace Imported;

        [Model]
        [Input(1, 28, 28)]
        [Conv2d(1, 8, 3, Padding = 1, Name = "conv1")]
        [BatchNorm2d(8, Name = "bn1")]
        [ReLU]
        [MaxPool2d(2)]
        [Conv2d(8, 16, 3, Stride = 2, Groups = 8, Bias = false, Name = "conv2")]
        [SiLU]
        [AvgPool2d(2)]
        [Flatten]
        [Linear(144, 32, Name = "fc1")]
        [Tanh]
        [Linear(32, 10, Name = "fc2")]
        public partial class M { }
        """;

    private const string Residual = """
        using CnnGen;

        namespace Imported;

        [Block]
        [Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv1")]
        [BatchNorm2d(16, Name = "bn1")]
        [ReLU]
        [Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv2")]
        [BatchNorm2d(16, Name = "bn2")]
        public partial class MBlock1 { }

        [Block]
        [Conv2d(16, 32, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
        [BatchNorm2d(32, Name = "bn1")]
        [SiLU]
        [SqueezeExcitation(32, 4, Activation = "silu", Name = "se")]
        [Conv2d(32, 32, 3, Padding = 1, Bias = false, Name = "conv2")]
        [BatchNorm2d(32, Name = "bn2")]
        public partial class MBlock2 { }

        [Block]
        [Conv2d(16, 32, 1, Stride = 2, Bias = false, Name = "0")]
        [BatchNorm2d(32, Name = "1")]
        public partial class MShortcut1 { }

        [Model]
        [Input(3, 32, 32)]
        [Conv2d(3, 16, 3, Padding = 1, Bias = false, Name = "conv1")]
        [BatchNorm2d(16, Name = "bn1")]
        [ReLU]
        [Residual(typeof(MBlock1), ReLU = true, Name = "layer1.0")]
        [Residual(typeof(MBlock1), ReLU = true, Name = "layer1.1")]
        [Residual(typeof(MBlock2), Shortcut = typeof(MShortcut1), ReLU = true, Name = "layer2.0")]
        [SqueezeExcitation(32, 8, Name = "se")]
        [GlobalAvgPool2d]
        [Flatten]
        [Linear(32, 10, Name = "fc")]
        public partial class M { }
        """;

    private static string Normalise(string cs) =>
        string.Join("\n", cs.Replace("\r\n", "\n").Split('\n').Where(l => !l.StartsWith("// ", StringComparison.Ordinal)).Select(l => l.TrimEnd())).Trim();

    [Theory]
    [InlineData("sequential")]
    [InlineData("residual")]
    public void Import_of_export_gives_the_same_declaration(string which)
    {
        string original = which == "sequential" ? Sequential : Residual;
        var r = GeneratorHarness.Run(original);
        Assert.Empty(r.Errors);
        var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("Imported.M")!, new object[] { 7 })!;
        string onnx = Path.Combine(_dir, "m.onnx");
        model.GetType().GetMethod("ExportOnnx", new[] { typeof(string) })!.Invoke(model, new object[] { onnx });

        var (cs, imported) = GraphImportTests.ImportAndCompile(onnx, Path.Combine(_dir, "out"), "M");
        Assert.Equal(Normalise(original), Normalise(cs));
        // and the weights came back: same outputs
        var x = GraphImportTests.Uniform("x").Take(model.InputSize).Select(u => (float)u).ToArray();
        float[] y0 = new float[model.OutputSize], y1 = new float[model.OutputSize];
        model.Forward(x, y0);
        imported.Forward(x, y1);
        Assert.Equal(y0, y1);
    }
}
