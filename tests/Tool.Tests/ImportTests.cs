using System;
using System.IO;
using System.Linq;
using CnnGen.Generator.Tests;
using CnnGen.Tool;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Tool.Tests;

/// <summary>`cnngen import` on the golden ONNX files (tools/golden/make_onnx_golden.py): the written declaration compiles with
/// the generator, loads the written safetensors and gives ONNX Runtime's outputs (and PyTorch's) within 1e-4.</summary>
public sealed class ImportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cnngen-import-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "onnx", name);

    private static float[] Floats(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, b.Length);
        return f;
    }

    private (int Exit, string Out, string Err) Import(string onnx, string cls, string outDir)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = Cli.Run(new[] { "import", onnx, "--out", outDir, "--class", cls, "--namespace", "Imported" }, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("fashion_cnn", 21840)]
    [InlineData("fashion_cnn_bn", 21860)]
    public void Imported_model_matches_OnnxRuntime_and_PyTorch(string name, int parameters)
    {
        string onnx = Golden(name + ".onnx");
        var (rc, _, err) = Import(onnx, "M", _dir);
        Assert.True(rc == 0, err);
        var r = GeneratorHarness.Run(File.ReadAllText(Path.Combine(_dir, "M.cs")));
        Assert.Empty(r.Errors);
        var model = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(r).GetType("Imported.M")!, new object[] { 0 })!;
        model.LoadWeights(Path.Combine(_dir, "M.safetensors"));

        // the parameter count equals the ONNX initializers' (weights and biases; BN running statistics are buffers)
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        long initParams = proto.Graph.Initializer.Where(t => !t.Name.EndsWith("running_mean") && !t.Name.EndsWith("running_var"))
            .Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        Assert.Equal(parameters, initParams);
        Assert.Equal(parameters, model.ParameterCount);

        float[] x = Floats(Golden(name + ".input.bin")), torch = Floats(Golden(name + ".output.bin"));
        var y = new float[model.OutputSize];
        model.Forward(x, y);

        using var session = new InferenceSession(onnx);
        var t = new DenseTensor<float>(x, new[] { 1, 1, 28, 28 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", t) });
        float[] ort = results.First().AsEnumerable<float>().ToArray();
        Assert.Equal(ort.Length, y.Length);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - ort[i]) <= 1e-4, $"output {i}: CnnGen {y[i]}, ONNX Runtime {ort[i]}");
            Assert.True(Math.Abs(y[i] - torch[i]) <= 1e-4, $"output {i}: CnnGen {y[i]}, PyTorch {torch[i]}");
        }
    }

    private string Mutated(Action<Onnx.ModelProto> change, string file = "fashion_cnn.onnx")
    {
        var m = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Golden(file)));
        change(m);
        Directory.CreateDirectory(_dir);
        string p = Path.Combine(_dir, "bad.onnx");
        File.WriteAllBytes(p, m.ToByteArray());
        return p;
    }

    private void AssertRejected(string onnx, params string[] parts)
    {
        string outDir = Path.Combine(_dir, "out");
        var (rc, o, e) = Import(onnx, "M", outDir);
        Assert.Equal(2, rc);
        Assert.Equal("", o);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        foreach (string p in parts) Assert.Contains(p, e);
        Assert.False(Directory.Exists(outDir), "no output may be written");
    }

    [Fact]
    public void Unknown_op_is_an_error_naming_the_node()
    {
        string p = Mutated(m => { m.Graph.Node[2].OpType = "Celu"; m.Graph.Node[2].Name = "/act1/Celu"; });
        AssertRejected(p, "node '/act1/Celu' (Celu)", "not supported");
    }

    [Fact]
    public void Asymmetric_pad_is_an_error_naming_the_node()
    {
        string p = Mutated(m =>
        {
            var n = m.Graph.Node[0];
            n.Name = "/conv1/Conv";
            var a = new Onnx.AttributeProto { Name = "pads", Type = Onnx.AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(new long[] { 0, 0, 1, 1 });
            foreach (var old in n.Attribute.Where(x => x.Name == "pads").ToList()) n.Attribute.Remove(old);
            n.Attribute.Add(a);
        });
        AssertRejected(p, "node '/conv1/Conv' (Conv)", "asymmetric padding (top 0, left 0, bottom 1, right 1)");
    }

    [Fact]
    public void Conv_weight_that_is_not_an_initializer_is_an_error()
    {
        string p = Mutated(m =>
        {
            m.Graph.Node[0].Name = "/conv1/Conv";
            var w = m.Graph.Initializer.First(t => t.Name == "conv1.weight");
            m.Graph.Initializer.Remove(w);
            m.Graph.Input.Add(new Onnx.ValueInfoProto { Name = "conv1.weight" });
        });
        AssertRejected(p, "node '/conv1/Conv' (Conv)", "weight 'conv1.weight' is not an initializer");
    }

    [Fact]
    public void Two_outputs_are_an_error()
    {
        string p = Mutated(m => m.Graph.Output.Add(new Onnx.ValueInfoProto { Name = m.Graph.Node[0].Output[0] }));
        AssertRejected(p, "2 outputs");
    }

    [Fact]
    public void Truncated_and_non_onnx_files_are_errors()
    {
        Directory.CreateDirectory(_dir);
        string t = Path.Combine(_dir, "trunc.onnx");
        File.WriteAllBytes(t, File.ReadAllBytes(Golden("fashion_cnn.onnx")).AsSpan(0, 5000).ToArray());
        AssertRejected(t, "trunc.onnx", "not an ONNX model");
        string j = Path.Combine(_dir, "junk.onnx");
        File.WriteAllText(j, "{ \"this is\": \"json\" }");
        AssertRejected(j, "junk.onnx", "not an ONNX model");
    }

    [Fact]
    public void Residual_add_of_a_layer_and_its_input_imports_and_matches_OnnxRuntime()
    {
        // y = Relu(x) + x after the first pool: a residual whose body is one ReLU (was "not supported" before branching import)
        string p = Mutated(m =>
        {
            var relu = m.Graph.Node[2];
            var add = new Onnx.NodeProto { Name = "/add", OpType = "Add" };
            add.Input.Add(relu.Output[0]);
            add.Input.Add(relu.Input[0]);
            add.Output.Add("added");
            m.Graph.Node.Insert(3, add);
            m.Graph.Node[4].Input[0] = "added";
        });
        var (cs, model) = GraphImportTests.ImportAndCompile(p, _dir, "M");
        Assert.Contains("[Residual(typeof(MBlock1), Name = \"residual1\")]", cs);
        float[] x = Floats(Golden("fashion_cnn.input.bin"));
        var y = new float[model.OutputSize];
        model.Forward(x, y);
        float[] ort = GraphImportTests.Ort(p, x, new[] { 1, 1, 28, 28 });
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - ort[i]) <= 1e-4, $"output {i}: CnnGen {y[i]}, ONNX Runtime {ort[i]}");
    }

    private static Onnx.NodeProto Node(string op, string name, string output, params string[] inputs)
    {
        var n = new Onnx.NodeProto { Name = name, OpType = op };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    [Fact]
    public void Add_whose_operands_do_not_share_a_fork_is_an_error()
    {
        string p = Mutated(m =>
        {
            var relu = m.Graph.Node[2];
            var other = m.Graph.Input[0].Clone();
            other.Name = "other";
            m.Graph.Input.Add(other);
            m.Graph.Node.Insert(3, Node("Add", "/add", "added", relu.Output[0], "other"));
            m.Graph.Node[4].Input[0] = "added";
        });
        AssertRejected(p, "node '/add' (Add)", "residual Add whose operands", "do not come from a common fork");
    }

    [Fact]
    public void Mul_that_is_not_an_SE_gate_is_an_error()
    {
        string p = Mutated(m =>
        {
            // y = x * Relu(x)
            var relu = m.Graph.Node[2];
            m.Graph.Node.Insert(3, Node("Mul", "/mul", "gated", relu.Input[0], relu.Output[0]));
            m.Graph.Node[4].Input[0] = "gated";
        });
        AssertRejected(p, "node '/mul' (Mul)", "not an SE gate");
    }

    [Fact]
    public void SE_gate_with_HardSigmoid_is_an_error_naming_the_gate()
    {
        string p = Mutated(m => m.Graph.Node.Single(n => n.Name == "/blocks/blocks.0/se/scale_activation/Sigmoid").OpType = "HardSigmoid", "mbconv_se.onnx");
        AssertRejected(p, "node '/blocks/blocks.0/se/scale_activation/Sigmoid' (HardSigmoid)", "SE gate must be Sigmoid");
    }

    [Fact]
    public void SE_with_a_strided_conv_is_an_error_naming_the_conv()
    {
        string p = Mutated(m =>
        {
            var fc1 = m.Graph.Node.Single(n => n.Name == "/blocks/blocks.0/se/fc1/Conv");
            var a = new Onnx.AttributeProto { Name = "strides", Type = Onnx.AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(new long[] { 2, 2 });
            foreach (var old in fc1.Attribute.Where(x => x.Name == "strides").ToList()) fc1.Attribute.Remove(old);
            fc1.Attribute.Add(a);
        }, "mbconv_se.onnx");
        AssertRejected(p, "node '/blocks/blocks.0/se/fc1/Conv' (Conv)", "an SE convolution must be 1×1");
    }

    [Fact]
    public void Value_feeding_three_nodes_is_an_error()
    {
        string p = Mutated(m =>
        {
            var relu = m.Graph.Node[2];
            m.Graph.Node.Insert(3, Node("Relu", "/r2", "r2", relu.Input[0]));
            m.Graph.Node.Insert(4, Node("Add", "/add", "added", relu.Output[0], relu.Input[0]));
            m.Graph.Node[5].Input[0] = "added";
        });
        AssertRejected(p, "feeds 3 nodes", "'/r2' (Relu)");
    }

    [Fact]
    public void Residual_branches_of_different_shapes_are_an_error()
    {
        string p = Mutated(m =>
        {
            // the first pool's input added to its output: [10, 24, 24] + [10, 12, 12]
            var pool = m.Graph.Node[1];
            m.Graph.Node.Insert(2, Node("Add", "/add", "added", pool.Output[0], pool.Input[0]));
            m.Graph.Node[3].Input[0] = "added";
        });
        AssertRejected(p, "node '/add' (Add)", "[10, 12, 12]", "[10, 24, 24]");
    }

    [Fact]
    public void Fork_whose_branches_never_join_is_an_error()
    {
        string p = Mutated(m =>
        {
            // the first pool's output also feeds a Relu whose result is never used
            var pool = m.Graph.Node[1];
            m.Graph.Node.Insert(2, Node("Relu", "/dangling", "dangling", pool.Output[0]));
        });
        AssertRejected(p, "feeds two nodes", "'/dangling' (Relu)", "do not join in a residual Add");
    }
}
