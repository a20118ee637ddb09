using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Runtime.Tests.Reference;

/// <summary>
/// Parses the C# attribute list stored in a model fixture's __metadata__["layers"]
/// (e.g. <c>[Input(1, 28, 28)] [Conv2d(1, 16, 3, Stride = 2)] [ReLU] [Flatten] [Linear(1568, 32, Bias = false)]</c>)
/// into a <see cref="RefModel"/>, with DESIGN.md's semantics: square values apply to both dimensions and
/// nonzero ...Height / ...Width values override them; a pool's stride defaults to its (per-dimension) kernel.
/// Integer arguments may be products such as <c>7 * 7 * 32</c>; <c>[Model]</c> is ignored.
/// </summary>
internal static class AttributeList
{
    private sealed class Attr
    {
        public string Name = "";
        public List<string> Positional = new();
        public Dictionary<string, string> Named = new(StringComparer.Ordinal);

        public int Int(int index) => ParseInt(Positional[index]);
        public double Double(int index, double fallback) =>
            index < Positional.Count ? double.Parse(Positional[index], CultureInfo.InvariantCulture) : fallback;
        public int NamedInt(string key, int fallback) => Named.TryGetValue(key, out var v) ? ParseInt(v) : fallback;
        public bool NamedBool(string key, bool fallback) => Named.TryGetValue(key, out var v) ? bool.Parse(v) : fallback;
        public double NamedDouble(string key, double fallback) => Named.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

        /// <summary>(height, width) of an option with a square form and Height/Width overrides (0 = not set).</summary>
        public (int H, int W) Pair(string key, int square)
        {
            int s = NamedInt(key, square);
            int h = NamedInt(key + "Height", 0), w = NamedInt(key + "Width", 0);
            return (h != 0 ? h : s, w != 0 ? w : s);
        }
    }

    /// <summary>An override value, where 0 means "not set".</summary>
    private static int Or(int value, int fallback) => value != 0 ? value : fallback;

    private static int ParseInt(string text)
    {
        int product = 1;
        foreach (var factor in text.Split('*'))
            product = checked(product * int.Parse(factor.Trim(), CultureInfo.InvariantCulture));
        return product;
    }

    private static List<Attr> Tokenize(string text)
    {
        var result = new List<Attr>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i == text.Length) break;
            if (text[i] != '[') throw new FormatException($"expected '[' at {i} in: {text}");
            int close = text.IndexOf(']', i);
            if (close < 0) throw new FormatException($"unclosed '[' at {i}");
            string body = text.Substring(i + 1, close - i - 1).Trim();
            i = close + 1;
            var a = new Attr();
            int paren = body.IndexOf('(');
            if (paren < 0)
            {
                a.Name = body;
            }
            else
            {
                if (!body.EndsWith(")", StringComparison.Ordinal)) throw new FormatException($"bad attribute [{body}]");
                a.Name = body.Substring(0, paren).Trim();
                string args = body.Substring(paren + 1, body.Length - paren - 2);
                foreach (var raw in args.Split(','))
                {
                    string arg = raw.Trim();
                    if (arg.Length == 0) continue;
                    int eq = arg.IndexOf('=');
                    if (eq < 0) a.Positional.Add(arg);
                    else a.Named[arg.Substring(0, eq).Trim()] = arg.Substring(eq + 1).Trim().Trim('"');
                }
            }
            if (a.Name.EndsWith("Attribute", StringComparison.Ordinal)) a.Name = a.Name[..^"Attribute".Length];
            result.Add(a);
        }
        return result;
    }

    public static RefModel Parse(string text)
    {
        int c = -1, h = -1, w = -1;
        var layers = new List<RefLayer>();
        var names = new List<string?>();
        foreach (var a in Tokenize(text))
        {
            RefLayer layer;
            switch (a.Name)
            {
                case "Model":
                    continue;
                case "Input":
                    (c, h, w) = (a.Int(0), a.Int(1), a.Int(2));
                    continue;
                case "Conv2d":
                {
                    int k = a.Int(2);
                    int kh = Or(a.NamedInt("KernelHeight", 0), k), kw = Or(a.NamedInt("KernelWidth", 0), k);
                    var (sh, sw) = a.Pair("Stride", 1);
                    var (ph, pw) = a.Pair("Padding", 0);
                    var (dh, dw) = a.Pair("Dilation", 1);
                    layer = new Conv2dLayer(a.Int(0), a.Int(1), kh, kw, sh, sw, ph, pw, dh, dw,
                        a.NamedInt("Groups", 1), a.NamedBool("Bias", true));
                    break;
                }
                case "MaxPool2d":
                case "AvgPool2d":
                {
                    int k = a.Int(0);
                    int kh = Or(a.NamedInt("KernelHeight", 0), k), kw = Or(a.NamedInt("KernelWidth", 0), k);
                    int s = a.NamedInt("Stride", 0); // 0 = not set: the kernel size, per dimension
                    int sh = Or(a.NamedInt("StrideHeight", 0), Or(s, kh));
                    int sw = Or(a.NamedInt("StrideWidth", 0), Or(s, kw));
                    var (ph, pw) = a.Pair("Padding", 0);
                    if (a.Name == "MaxPool2d")
                    {
                        var (dh, dw) = a.Pair("Dilation", 1);
                        layer = new MaxPool2dLayer(kh, kw, sh, sw, ph, pw, dh, dw);
                    }
                    else
                    {
                        layer = new AvgPool2dLayer(kh, kw, sh, sw, ph, pw);
                    }
                    break;
                }
                case "Linear":
                    layer = new LinearLayer(a.Int(0), a.Int(1), a.NamedBool("Bias", true));
                    break;
                case "ReLU": layer = new ReLULayer(); break;
                case "LeakyReLU": layer = new LeakyReLULayer(a.Double(0, 0.01)); break;
                case "ELU": layer = new ELULayer(a.Double(0, 1.0)); break;
                case "Sigmoid": layer = new SigmoidLayer(); break;
                case "Tanh": layer = new TanhLayer(); break;
                case "Softmax": layer = new SoftmaxLayer(); break;
                case "LogSoftmax": layer = new LogSoftmaxLayer(); break;
                case "Flatten": layer = new FlattenLayer(); break;
                case "Dropout": layer = new DropoutLayer(a.Double(0, 0.5)); break;
                case "Dropout2d": layer = new Dropout2dLayer(a.Double(0, 0.5)); break;
                case "ReLU6": layer = new ReLU6Layer(); break;
                case "SiLU":
                case "Swish": layer = new SiLULayer(); break;
                case "Identity": layer = new IdentityLayer(); break;
                case "GELU": layer = new GELULayer(a.Named.TryGetValue("Approximate", out var approximate) && approximate == "tanh"); break;
                case "Hardswish": layer = new HardswishLayer(); break;
                case "Hardsigmoid": layer = new HardsigmoidLayer(); break;
                case "BatchNorm2d":
                    layer = new BatchNorm2dLayer(a.Int(0), a.NamedDouble("Eps", 1e-5), a.NamedDouble("Momentum", 0.1), a.NamedBool("Affine", true));
                    break;
                case "AdaptiveAvgPool2d":
                    if (a.Int(0) != 1) throw new FormatException("only AdaptiveAvgPool2d(1)");
                    layer = new GlobalAvgPool2dLayer();
                    break;
                case "GlobalAvgPool2d": layer = new GlobalAvgPool2dLayer(); break;
                default:
                    throw new FormatException($"unknown layer attribute [{a.Name}]");
            }
            layers.Add(layer);
            names.Add(a.Named.TryGetValue("Name", out var n) ? n : null);
        }
        if (c < 0) throw new FormatException("no [Input(c, h, w)] in: " + text);
        return new RefModel(c, h, w, layers, names);
    }
}
