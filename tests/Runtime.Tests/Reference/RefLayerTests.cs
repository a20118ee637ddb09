using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>
/// Validates the float64 reference two independent ways: against PyTorch (the fixtures made by
/// tools/golden/make_parity.py) and against central finite differences of its own forward pass.
/// </summary>
public sealed partial class RefLayerTests
{
    private readonly ITestOutputHelper _out;
    public RefLayerTests(ITestOutputHelper output) => _out = output;

    private static string LayersDir => Path.Combine(FixtureFile.ParityDirectory, "layers");
    private static string ModelsDir => Path.Combine(FixtureFile.ParityDirectory, "models");

    /// <summary>Every per-layer case make_parity.py writes; a missing file fails <see cref="EveryLayerFixtureIsPresent"/>.</summary>
    private static readonly string[] s_layerCases =
    {
        "conv2d_plain", "conv2d_stride2", "conv2d_pad1", "conv2d_dilation2", "conv2d_groups2", "conv2d_depthwise",
        "conv2d_rect", "conv2d_nobias", "conv2d_1x1out", "conv2d_pointwise", "conv2d_mixed",
        "maxpool2d_k2", "maxpool2d_k3s2p1", "maxpool2d_k2s2p1", "maxpool2d_dilation2", "maxpool2d_rect",
        "maxpool2d_ties", "maxpool2d_ties_overlap",
        "avgpool2d_k2", "avgpool2d_k3s2p1", "avgpool2d_rect",
        "linear_bias", "linear_nobias",
        "relu", "leakyrelu", "elu", "sigmoid", "tanh", "softmax", "logsoftmax",
    };

    private static readonly string[] s_models = { "model_a", "model_b", "model_c", "model_d", "model_e" };

    public static IEnumerable<object[]> LayerCases => s_layerCases.Select(n => new object[] { n });
    public static IEnumerable<object[]> Models => s_models.Select(n => new object[] { n });

    // ============================================================================================ helpers

    /// <summary>
    /// Largest absolute difference and largest relative difference, where each element's error is divided by
    /// max(|expected|, 1e-3 * max|expected|) so that values near zero are judged against the tensor's scale.
    /// </summary>
    internal static (double MaxAbs, double MaxRel) Diff(double[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        double floor = Math.Max(1e-3 * scale, 1e-300);
        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d)) return (double.NaN, double.NaN);
            maxAbs = Math.Max(maxAbs, d);
            maxRel = Math.Max(maxRel, d / Math.Max(Math.Abs(expected[i]), floor));
        }
        return (maxAbs, maxRel);
    }

    private void AssertClose(string label, double[] actual, double[] expected, double relTolerance)
    {
        var (abs, rel) = Diff(actual, expected);
        _out.WriteLine($"{label,-28} max abs {abs:E2}  max rel {rel:E2}");
        Assert.True(rel <= relTolerance, $"{label}: max rel difference {rel:E3} (abs {abs:E3}) exceeds {relTolerance:E1}");
    }

    private static RefTensor T(FixtureTensor t) => new(t.Shape, (double[])t.Data.Clone());

    /// <summary>The reference layer a per-layer fixture describes (from its __metadata__).</summary>
    internal static RefLayer LayerFromMetadata(FixtureFile f)
    {
        switch (f.Meta("kind"))
        {
            case "conv2d":
            {
                var k = f.MetaPair("kernel"); var s = f.MetaPair("stride"); var p = f.MetaPair("padding"); var d = f.MetaPair("dilation");
                return new Conv2dLayer(f.MetaInt("in_channels"), f.MetaInt("out_channels"), k.H, k.W, s.H, s.W, p.H, p.W,
                    d.H, d.W, f.MetaInt("groups"), f.Meta("bias") == "true");
            }
            case "maxpool2d":
            {
                var k = f.MetaPair("kernel"); var s = f.MetaPair("stride"); var p = f.MetaPair("padding"); var d = f.MetaPair("dilation");
                return new MaxPool2dLayer(k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W);
            }
            case "avgpool2d":
            {
                Assert.Equal("true", f.Meta("count_include_pad"));
                var k = f.MetaPair("kernel"); var s = f.MetaPair("stride"); var p = f.MetaPair("padding");
                return new AvgPool2dLayer(k.H, k.W, s.H, s.W, p.H, p.W);
            }
            case "linear": return new LinearLayer(f.MetaInt("in_features"), f.MetaInt("out_features"), f.Meta("bias") == "true");
            case "relu": return new ReLULayer();
            case "leakyrelu": return new LeakyReLULayer(f.MetaDouble("negative_slope"));
            case "elu": return new ELULayer(f.MetaDouble("alpha"));
            case "sigmoid": return new SigmoidLayer();
            case "tanh": return new TanhLayer();
            case "softmax": Assert.Equal("1", f.Meta("dim")); return new SoftmaxLayer();
            case "logsoftmax": Assert.Equal("1", f.Meta("dim")); return new LogSoftmaxLayer();
            default: throw new InvalidDataException($"{f.Path}: unknown kind {f.Meta("kind")}");
        }
    }

    /// <summary>Forward then backward of one layer; weight/bias null for parameter-free layers.</summary>
    internal static (RefTensor Y, RefTensor Dx, RefTensor? Dw, RefTensor? Db) Run(
        RefLayer layer, RefTensor x, RefTensor? w, RefTensor? b, RefTensor dy)
    {
        switch (layer)
        {
            case Conv2dLayer c:
            {
                var y = RefLayers.Conv2dForward(x, w!, b, c);
                var (dx, dw, db) = RefLayers.Conv2dBackward(x, w!, c, dy);
                return (y, dx, dw, db);
            }
            case LinearLayer l:
            {
                var y = RefLayers.LinearForward(x, w!, b);
                var (dx, dw, db) = RefLayers.LinearBackward(x, w!, l.Bias, dy);
                return (y, dx, dw, db);
            }
            case MaxPool2dLayer p:
            {
                var y = RefLayers.MaxPool2dForward(x, p, out var argmax);
                return (y, RefLayers.MaxPool2dBackward(x.Shape, argmax, dy), null, null);
            }
            case AvgPool2dLayer p:
                return (RefLayers.AvgPool2dForward(x, p), RefLayers.AvgPool2dBackward(x.Shape, p, dy), null, null);
            default:
            {
                var y = RefLayers.ActivationForward(layer, x);
                return (y, RefLayers.ActivationBackward(layer, x, y, dy), null, null);
            }
        }
    }

    private static RefTensor Forward(RefLayer layer, RefTensor x, RefTensor? w, RefTensor? b) => layer switch
    {
        Conv2dLayer c => RefLayers.Conv2dForward(x, w!, b, c),
        LinearLayer => RefLayers.LinearForward(x, w!, b),
        MaxPool2dLayer p => RefLayers.MaxPool2dForward(x, p, out _),
        AvgPool2dLayer p => RefLayers.AvgPool2dForward(x, p),
        _ => RefLayers.ActivationForward(layer, x),
    };

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static int StableSeed(string name)
    {
        int h = 17;
        foreach (char ch in name) h = unchecked(h * 31 + ch);
        return h & 0x7fffffff;
    }

    private static double[] Uniform(Random rng, int n, double lo, double hi)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    /// <summary>
    /// Central differences of L = sum(f() * g) with respect to every element of <paramref name="target"/>
    /// (perturbed in place and restored), compared with <paramref name="analytic"/>:
    /// |fd - analytic| &lt;= tol * max(1, |analytic|). Checks at most <paramref name="maxChecks"/> elements (spread evenly).
    /// </summary>
    private double FiniteDifferenceCheck(string label, double[] target, double[] analytic, Func<double[]> f, double[] g,
        double h = 1e-6, double tol = 1e-6, int maxChecks = int.MaxValue)
    {
        Assert.Equal(target.Length, analytic.Length);
        int step = Math.Max(1, (target.Length + maxChecks - 1) / maxChecks);
        double worst = 0;
        int checkedCount = 0;
        for (int i = 0; i < target.Length; i += step)
        {
            double saved = target[i];
            target[i] = saved + h;
            double plus = Dot(f(), g);
            target[i] = saved - h;
            double minus = Dot(f(), g);
            target[i] = saved;
            double fd = (plus - minus) / (2 * h);
            double err = Math.Abs(fd - analytic[i]) / Math.Max(1.0, Math.Abs(analytic[i]));
            worst = Math.Max(worst, err);
            checkedCount++;
            Assert.True(err <= tol, $"{label}[{i}]: finite difference {fd:R} vs analytic {analytic[i]:R} (error {err:E2})");
        }
        _out.WriteLine($"{label,-28} {checkedCount} finite differences, max error {worst:E2}");
        return worst;
    }

    // ============================================================================================ per-layer vs PyTorch

    [Fact]
    public void EveryLayerFixtureIsPresent()
    {
        Assert.True(Directory.Exists(LayersDir), $"missing {LayersDir}");
        var present = Directory.GetFiles(LayersDir, "*.safetensors").Select(Path.GetFileNameWithoutExtension).ToHashSet();
        var missing = s_layerCases.Where(n => !present.Contains(n)).ToArray();
        Assert.True(missing.Length == 0, "missing layer fixtures: " + string.Join(", ", missing));
        var unknown = present.Where(n => !s_layerCases.Contains(n!)).ToArray();
        Assert.True(unknown.Length == 0, "layer fixtures without a test: " + string.Join(", ", unknown));
    }

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void LayerMatchesPyTorch(string name)
    {
        var f = FixtureFile.Read(Path.Combine(LayersDir, name + ".safetensors"));
        var layer = LayerFromMetadata(f);
        _out.WriteLine($"{name}: {layer}  x {f["x"].ShapeText}");
        var w = f.TryGet("weight") is { } wt ? T(wt) : null;
        var b = f.TryGet("bias") is { } bt ? T(bt) : null;
        bool expectsBias = layer is Conv2dLayer { Bias: true } or LinearLayer { Bias: true };
        Assert.Equal(expectsBias, b is not null);
        Assert.Equal(expectsBias, f.Has("grad_bias"));

        var (y, dx, dw, db) = Run(layer, T(f["x"]), w, b, T(f["grad_output"]));
        Assert.Equal(f["y"].Shape, y.Shape);
        Assert.Equal(f["grad_input"].Shape, dx.Shape);
        const double tol = 1e-5; // the fixtures are float64 results rounded to float32
        AssertClose("y", y.Data, f["y"].Data, tol);
        AssertClose("grad_input", dx.Data, f["grad_input"].Data, tol);
        if (w is not null)
        {
            Assert.Equal(f["grad_weight"].Shape, dw!.Shape);
            AssertClose("grad_weight", dw.Data, f["grad_weight"].Data, tol);
        }
        else
        {
            Assert.False(f.Has("grad_weight"));
        }
        if (b is not null) AssertClose("grad_bias", db!.Data, f["grad_bias"].Data, tol);
    }

    [Fact]
    public void TiesRouteTheGradientToTheFirstMaximum()
    {
        // Independent of the fixture: a 2x2 window of equal values sends the whole gradient to its top-left element.
        var x = new RefTensor(new[] { 1, 1, 2, 4 }, new double[] { 5, 5, 1, 7, 5, 5, 7, 2 });
        var y = RefLayers.MaxPool2dForward(x, MaxPool2dLayer.Square(2), out var argmax);
        Assert.Equal(new double[] { 5, 7 }, y.Data);
        Assert.Equal(new[] { 0, 3 }, argmax);
        var dx = RefLayers.MaxPool2dBackward(x.Shape, argmax, new RefTensor(new[] { 1, 1, 1, 2 }, new double[] { 10, 20 }));
        Assert.Equal(new double[] { 10, 0, 0, 20, 0, 0, 0, 0 }, dx.Data);

        // and the PyTorch fixture agrees: every window with a repeated maximum puts its gradient on the first one
        var f = FixtureFile.Read(Path.Combine(LayersDir, "maxpool2d_ties.safetensors"));
        Assert.Equal("true", f.Meta("ties"));
        var fx = T(f["x"]);
        RefLayers.MaxPool2dForward(fx, MaxPool2dLayer.Square(2), out var am);
        int windowsWithTies = 0;
        for (int o = 0; o < am.Length; o++)
        {
            int n = o / (3 * 3 * 3), c = o / 9 % 3, i = o / 3 % 3, j = o % 3;
            int first = fx.Index(n, c, 2 * i, 2 * j);
            var window = new[] { first, first + 1, first + 6, first + 7 };
            double max = window.Max(k => fx.Data[k]);
            if (window.Count(k => fx.Data[k] == max) > 1) windowsWithTies++;
            int expected = window.First(k => fx.Data[k] == max);
            Assert.Equal(expected, am[o]);
            Assert.Equal(f["grad_output"].Data[o], f["grad_input"].Data[expected]);
        }
        Assert.True(windowsWithTies > 10, $"only {windowsWithTies} windows with ties");
    }

    // ============================================================================================ per-layer vs finite differences

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void LayerBackwardMatchesFiniteDifferences(string name)
    {
        // Same layer configuration as the fixture, fresh float64 data placed away from kinks and ties.
        var f = FixtureFile.Read(Path.Combine(LayersDir, name + ".safetensors"));
        var layer = LayerFromMetadata(f);
        var rng = new Random(StableSeed(name));
        int[] xShape = f["x"].Shape;
        int xCount = RefTensor.Count(xShape);
        double[] xData;
        if (layer is MaxPool2dLayer)
        {
            // distinct values at least 0.009 apart, shuffled: no ties within 2h
            xData = Enumerable.Range(0, xCount).Select(i => (i - xCount / 2) * 0.01 + 0.001 * rng.NextDouble()).ToArray();
            rng.Shuffle(xData);
        }
        else if (RefLayers.IsActivation(layer))
        {
            xData = Uniform(rng, xCount, -3, 3).Select(v => Math.Abs(v) < 0.01 ? v + 0.05 : v).ToArray();
        }
        else
        {
            xData = Uniform(rng, xCount, -1, 1);
        }
        var x = new RefTensor(xShape, xData);
        var w = f.TryGet("weight") is { } wt ? new RefTensor(wt.Shape, Uniform(rng, wt.Length, -0.5, 0.5)) : null;
        var b = f.TryGet("bias") is { } bt ? new RefTensor(bt.Shape, Uniform(rng, bt.Length, -0.5, 0.5)) : null;
        var g = new RefTensor(f["y"].Shape, Uniform(rng, f["y"].Length, -1, 1));

        var (y, dx, dw, db) = Run(layer, x, w, b, g);
        Assert.Equal(g.Shape, y.Shape);
        Func<double[]> fwd = () => Forward(layer, x, w, b).Data;
        FiniteDifferenceCheck(name + " dX", x.Data, dx.Data, fwd, g.Data);
        if (w is not null) FiniteDifferenceCheck(name + " dW", w.Data, dw!.Data, fwd, g.Data);
        if (b is not null) FiniteDifferenceCheck(name + " dB", b.Data, db!.Data, fwd, g.Data);
    }

    [Fact]
    public void DropoutScalesKeptElementsAndMatchesFiniteDifferences()
    {
        var rng = new Random(7);
        const double p = 0.3;
        var x = new RefTensor(new[] { 2, 3, 4, 5 }, Uniform(rng, 120, -2, 2));
        var keep = Enumerable.Range(0, 120).Select(_ => rng.NextDouble() >= p).ToArray();
        Assert.Contains(false, keep);
        Assert.Contains(true, keep);
        var y = RefLayers.DropoutForward(x, keep, p);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(keep[i] ? x.Data[i] / 0.7 : 0.0, y.Data[i], 12);
        var g = Uniform(rng, 120, -1, 1);
        var dx = RefLayers.DropoutBackward(keep, p, new RefTensor(x.Shape, g));
        FiniteDifferenceCheck("dropout dX", x.Data, dx.Data, () => RefLayers.DropoutForward(x, keep, p).Data, g);
    }

    [Fact]
    public void Dropout2dDropsWholeChannelsAndMatchesFiniteDifferences()
    {
        var rng = new Random(8);
        const double p = 0.5;
        var x = new RefTensor(new[] { 2, 3, 4, 5 }, Uniform(rng, 120, -2, 2));
        var keep = new[] { true, false, true, false, true, true };
        var y = RefLayers.Dropout2dForward(x, keep, p);
        for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
            Assert.Equal(keep[n * 3 + c] ? 2 * x[n, c, i, j] : 0.0, y[n, c, i, j], 12);
        var g = Uniform(rng, 120, -1, 1);
        var dx = RefLayers.Dropout2dBackward(keep, p, new RefTensor(x.Shape, g));
        FiniteDifferenceCheck("dropout2d dX", x.Data, dx.Data, () => RefLayers.Dropout2dForward(x, keep, p).Data, g);
    }

    [Fact]
    public void SoftmaxIsStableForLargeInputs()
    {
        var x = new RefTensor(new[] { 1, 3 }, new double[] { 1000, 999, -1000 });
        var s = RefLayers.SoftmaxForward(x);
        var ls = RefLayers.LogSoftmaxForward(x);
        double e = Math.Exp(-1);
        Assert.Equal(1 / (1 + e), s.Data[0], 14);
        Assert.Equal(e / (1 + e), s.Data[1], 14);
        Assert.Equal(0.0, s.Data[2]);
        Assert.Equal(-Math.Log(1 + e), ls.Data[0], 12);
        Assert.Equal(-2000 - Math.Log(1 + e), ls.Data[2], 9);
    }

    // ============================================================================================ models

    private static (FixtureFile File, RefModel Model, double[] Parameters) LoadModel(string name)
    {
        var f = FixtureFile.Read(Path.Combine(ModelsDir, name + ".safetensors"));
        var model = RefModel.FromAttributes(f.Meta("layers"));
        Assert.Equal(f.MetaInt("parameter_count"), model.ParameterCount);
        var stateKeys = f.Tensors.Select(t => t.Name)
            .Where(k => k is not ("input" or "output" or "grad_output" or "grad_input") && !k.StartsWith("grad/", StringComparison.Ordinal))
            .ToArray();
        Assert.Equal(stateKeys, model.Parameters.Select(p => p.Key).ToArray());
        var flat = new double[model.ParameterCount];
        foreach (var p in model.Parameters)
        {
            Assert.Equal(p.Shape, f[p.Key].Shape);
            Array.Copy(f[p.Key].Data, 0, flat, p.Offset, p.Length);
        }
        return (f, model, flat);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ModelMatchesPyTorch(string name)
    {
        var (f, model, flat) = LoadModel(name);
        int batch = f.MetaInt("batch");
        Assert.Equal(new[] { batch }.Concat(model.InputShape).ToArray(), f["input"].Shape);
        _out.WriteLine($"{name}: {f.Meta("layers")}");
        _out.WriteLine($"  {model.ParameterCount} parameters, output [{string.Join(", ", model.OutputShape)}], batch {batch}");

        var pass = model.Forward(f["input"].Data, batch, flat);
        Assert.Equal(f["output"].Shape, pass.Output.Shape);
        AssertClose("output", pass.Output.Data, f["output"].Data, 1e-4);

        var (gradInput, gradParams) = model.Backward(pass, f["grad_output"].Data);
        AssertClose("grad_input", gradInput, f["grad_input"].Data, 1e-3);
        foreach (var p in model.Parameters)
            AssertClose("grad/" + p.Key, gradParams.AsSpan(p.Offset, p.Length).ToArray(), f["grad/" + p.Key].Data, 1e-3);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void WeightsFileHoldsTheStateDict(string name)
    {
        var (f, model, _) = LoadModel(name);
        var weights = FixtureFile.Read(Path.Combine(ModelsDir, name + ".weights.safetensors"));
        Assert.Equal(model.Parameters.Select(p => p.Key).ToArray(), weights.Tensors.Select(t => t.Name).ToArray());
        foreach (var t in weights.Tensors)
        {
            Assert.Equal(f[t.Name].Shape, t.Shape);
            Assert.Equal(f[t.Name].Data, t.Data);
        }
    }

    [Theory]
    [InlineData("model_c", true, 16)]  // Dropout2d + Dropout, here in training mode with fixed masks
    [InlineData("model_d", false, 120)]
    [InlineData("model_e", false, 80)]
    public void ModelBackwardMatchesFiniteDifferences(string name, bool withDropoutMasks, int checks)
    {
        var (f, model, flat) = LoadModel(name);
        int batch = f.MetaInt("batch");
        double[] input = (double[])f["input"].Data.Clone();
        double[] g = f["grad_output"].Data;
        var masks = new Dictionary<int, bool[]>();
        if (withDropoutMasks)
        {
            var rng = new Random(11);
            for (int i = 0; i < model.Layers.Count; i++)
            {
                int count = model.Layers[i] switch
                {
                    DropoutLayer => batch * RefTensor.Count(model.LayerShapes[i]),
                    Dropout2dLayer => batch * model.LayerShapes[i][0],
                    _ => 0,
                };
                if (count > 0) masks[i] = Enumerable.Range(0, count).Select(_ => rng.NextDouble() >= 0.5).ToArray();
            }
            Assert.Equal(2, masks.Count);
        }
        var pass = model.Forward(input, batch, flat, masks);
        var (gradInput, gradParams) = model.Backward(pass, g);
        Func<double[]> fwd = () => model.Forward(input, batch, flat, masks).Output.Data;
        FiniteDifferenceCheck(name + " d input", input, gradInput, fwd, g, maxChecks: checks);
        FiniteDifferenceCheck(name + " d parameters", flat, gradParams, fwd, g, maxChecks: checks);
    }

    [Fact]
    public void AttributeListParsesDesignSemantics()
    {
        var m = RefModel.FromAttributes(
            "[Model] [Input(3, 17, 13)] [Conv2d(3, 8, 3, KernelWidth = 1, StrideHeight = 2, Padding = 1, Name = \"conv1.0\")] " +
            "[MaxPool2d(3, KernelWidth = 2)] [Flatten] [Linear(8 * 3 * 7, 4, Bias = false)] [LeakyReLU] [ELU(0.5)]");
        Assert.Equal(new Conv2dLayer(3, 8, 3, 1, 2, 1, 1, 1, 1, 1, 1, true), m.Layers[0]);
        Assert.Equal(new MaxPool2dLayer(3, 2, 3, 2, 0, 0, 1, 1), m.Layers[1]);
        Assert.Equal(new LinearLayer(168, 4, false), m.Layers[3]);
        Assert.Equal(new LeakyReLULayer(0.01), m.Layers[4]);
        Assert.Equal(new ELULayer(0.5), m.Layers[5]);
        Assert.Equal(new[] { "conv1.0.weight", "conv1.0.bias", "3.weight" }, m.Parameters.Select(p => p.Key).ToArray());
        Assert.Equal(new[] { 8, 9, 15 }, m.LayerShapes[1]);
        Assert.Equal(new[] { 8, 3, 7 }, m.LayerShapes[2]);
        Assert.Throws<ArgumentException>(() => RefModel.FromAttributes("[Input(1, 8, 8)] [Conv2d(1, 2, 3)] [Flatten] [Linear(71, 3)]"));
    }
}
