using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// [Model(Weights = "...")] on a model with batch norm: the running statistics (running_mean, running_var as F32,
    /// num_batches_tracked as I64, as PyTorch and the runtime save them) are compiled in with the parameters, and every
    /// mismatch in a buffer tensor is the same precise CNN003x error as for a parameter.
    /// </summary>
    public class BakedBatchNormTests
    {
        // Conv2d(1, 2, 3, no bias): [2, 1, 3, 3]; input 1×4×4 -> [2, 2, 2]; BatchNorm2d(2): γ, β [2] + buffers; Linear(8, 3).
        private const string Source = @"using CnnGen;
namespace T
{
    [Model(Weights = ""bn.safetensors"")]
    [Input(1, 4, 4)]
    [Conv2d(1, 2, 3, Bias = false)]
    [BatchNorm2d(2)]
    [ReLU]
    [Flatten]
    [Linear(8, 3)]
    public partial class M { }
}
";
        private static string Plain => Source.Replace("[Model(Weights = \"bn.safetensors\")]", "[Model]").Replace("class M", "class P");

        private static WeightsTests.Tensor I64(string name, long value) =>
            new(name, "I64", Array.Empty<long>(), BitConverter.GetBytes(value));

        private static List<WeightsTests.Tensor> Tensors() => new()
        {
            WeightsTests.F32("0.weight", new long[] { 2, 1, 3, 3 }, Enumerable.Range(0, 18).Select(i => (i - 9) * 0.05f).ToArray()),
            WeightsTests.F32("1.weight", new long[] { 2 }, new[] { 1.5f, 0.75f }),
            WeightsTests.F32("1.bias", new long[] { 2 }, new[] { 0.25f, -0.5f }),
            WeightsTests.F32("1.running_mean", new long[] { 2 }, new[] { 0.125f, -0.375f }),
            WeightsTests.F32("1.running_var", new long[] { 2 }, new[] { 2.5f, 0.5f }),
            I64("1.num_batches_tracked", 1234),
            WeightsTests.F32("4.weight", new long[] { 3, 8 }, Enumerable.Range(0, 24).Select(i => MathF.Cos(i)).ToArray()),
            WeightsTests.F32("4.bias", new long[] { 3 }, new[] { 0.1f, 0.2f, -0.3f }),
        };

        private static GeneratorHarness.Result Bake(IEnumerable<WeightsTests.Tensor> tensors) =>
            WeightsTests.Run(Source, WeightsTests.Encoded("bn.safetensors", WeightsTests.SafeTensorsBytes(tensors)));

        [Fact]
        public void RunningStatisticsAreCompiledInAndRestoredByLoadBakedWeights()
        {
            var r = Bake(Tensors());
            Assert.Empty(r.Errors);
            Assert.Contains("public static global::System.ReadOnlySpan<float> BakedBuffers => new float[]", r.GeneratedSource);
            Assert.Contains("// 1.num_batches_tracked I64 [] (BatchNorm2d-2): 1 values from offset 4", r.GeneratedSource);
            var type = GeneratorHarness.Load(r).GetType("T.M")!;
            var model = (ICnnModel)Activator.CreateInstance(type)!;
            Assert.Equal(new[] { 0.125f, -0.375f, 2.5f, 0.5f, 1234f }, model.Buffers);
            Assert.Equal(new[] { 1.5f, 0.75f, 0.25f, -0.5f }, model.Parameters.AsSpan(18, 4).ToArray());

            // new M(seed): PyTorch's initialization, running statistics reset (mean 0, var 1, count 0); LoadBakedWeights restores both.
            var seeded = (ICnnModel)Activator.CreateInstance(type, 5)!;
            Assert.Equal(new[] { 0f, 0f, 1f, 1f, 0f }, seeded.Buffers);
            type.GetMethod("LoadBakedWeights")!.Invoke(seeded, null);
            Assert.Equal(model.Buffers, seeded.Buffers);
            Assert.Equal(model.Parameters, seeded.Parameters);
        }

        [Fact]
        public void BakedBatchNormModelComputesWhatTheRuntimeLoadedModelComputes()
        {
            // The runtime writes the file: a model of the same layers after three training steps (so the running
            // statistics and num_batches_tracked are not their defaults) saves its state_dict; the generator bakes it.
            var plainAsm = GeneratorHarness.Load(GeneratorHarness.Run(Plain));
            var source = (ICnnModel)Activator.CreateInstance(plainAsm.GetType("T.P")!, 7)!;
            var x = Enumerable.Range(0, 16 * 6).Select(i => MathF.Sin(i * 0.37f) + 0.5f).ToArray();
            var ws = source.CreateWorkspace(6);
            var y = new float[6 * 3];
            for (int step = 0; step < 3; step++) source.ForwardTrain(ws, x, y, 6);
            Assert.Equal(3f, source.Buffers[4]);
            Assert.NotEqual(0f, source.Buffers[0]);

            string path = Path.Combine(Path.GetTempPath(), $"cnngen-bake-bn-{Guid.NewGuid():N}.safetensors");
            try
            {
                source.SaveWeights(path);
                var r = WeightsTests.Run(Source, WeightsTests.Encoded("models/bn.safetensors", File.ReadAllBytes(path)));
                Assert.Empty(r.Errors);
                var type = GeneratorHarness.Load(r).GetType("T.M")!;
                var baked = (ICnnModel)Activator.CreateInstance(type)!;
                var loaded = (ICnnModel)Activator.CreateInstance(type, 3)!;
                loaded.LoadWeights(path);
                Assert.Equal(loaded.Buffers.Select(BitConverter.SingleToInt32Bits), baked.Buffers.Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(loaded.Parameters.Select(BitConverter.SingleToInt32Bits), baked.Parameters.Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(source.Buffers, baked.Buffers);

                var y1 = new float[6 * 3];
                var y2 = new float[6 * 3];
                baked.Forward(x, y1, 6);
                loaded.Forward(x, y2, 6);
                Assert.Equal(y2, y1);
                // Inference uses the baked running statistics: with the defaults (mean 0, var 1) the output differs.
                var defaults = (ICnnModel)Activator.CreateInstance(type)!;
                Array.Copy(new[] { 0f, 0f, 1f, 1f, 0f }, defaults.Buffers, 5);
                var y3 = new float[6 * 3];
                defaults.Forward(x, y3, 6);
                Assert.NotEqual(y1, y3);
            }
            finally
            {
                File.Delete(path);
            }
        }

        private static Diagnostic Single(GeneratorHarness.Result r, string id)
        {
            DiagnosticTests.AssertNoGeneratorFailure(r);
            var cnn = r.Cnn.ToList();
            Assert.True(cnn.Count == 1 && cnn[0].Id == id, "expected one " + id + ", got:\n" + string.Join("\n", cnn));
            Assert.Equal(DiagnosticTests.LineOf(Source, "Weights ="), cnn[0].Location.GetLineSpan().StartLinePosition.Line);
            Assert.DoesNotContain(r.CompilationDiagnostics, x => x.Severity == DiagnosticSeverity.Error);
            return cnn[0];
        }

        private static List<WeightsTests.Tensor> Replace(string key, WeightsTests.Tensor? with)
        {
            var tensors = Tensors();
            int at = tensors.FindIndex(t => t.Name == key);
            if (with is null) tensors.RemoveAt(at);
            else tensors[at] = with;
            return tensors;
        }

        [Fact]
        public void MissingRunningStatisticIsCNN0033()
        {
            var d = Single(Bake(Replace("1.running_var", null)), "CNN0033");
            Assert.Equal("Model 'M': the weights file 'bn.safetensors' has no tensor '1.running_var' (BatchNorm2d-2 needs shape [2])", d.GetMessage(CultureInfo.InvariantCulture));
        }

        [Fact]
        public void RunningStatisticOfTheWrongShapeIsCNN0034()
        {
            var d = Single(Bake(Replace("1.running_mean", WeightsTests.F32("1.running_mean", new long[] { 3 }, new float[3]))), "CNN0034");
            Assert.Equal("Model 'M': tensor '1.running_mean' in 'bn.safetensors' has shape [3], but BatchNorm2d-2 needs [2]", d.GetMessage(CultureInfo.InvariantCulture));
            var count = Single(Bake(Replace("1.num_batches_tracked", new WeightsTests.Tensor("1.num_batches_tracked", "I64", new long[] { 1 }, new byte[8]))), "CNN0034");
            Assert.Equal("Model 'M': tensor '1.num_batches_tracked' in 'bn.safetensors' has shape [1], but BatchNorm2d-2 needs []", count.GetMessage(CultureInfo.InvariantCulture));
        }

        [Fact]
        public void BufferOfTheWrongDTypeIsCNN0035NamingTheDTypeItNeeds()
        {
            var asFloat = Single(Bake(Replace("1.num_batches_tracked", WeightsTests.F32("1.num_batches_tracked", Array.Empty<long>(), new[] { 3f }))), "CNN0035");
            Assert.Equal("Model 'M': tensor '1.num_batches_tracked' [] in 'bn.safetensors' is F32, but BatchNorm2d-2 needs I64", asFloat.GetMessage(CultureInfo.InvariantCulture));
            var asDouble = Single(Bake(Replace("1.running_var", new WeightsTests.Tensor("1.running_var", "F64", new long[] { 2 }, new byte[16]))), "CNN0035");
            Assert.Equal("Model 'M': tensor '1.running_var' [2] in 'bn.safetensors' is F64, but BatchNorm2d-2 needs F32", asDouble.GetMessage(CultureInfo.InvariantCulture));
        }

        [Fact]
        public void UnknownTensorIsCNN0036ListingTheBuffersInStateDictOrder()
        {
            var tensors = Tensors();
            tensors.Add(WeightsTests.F32("2.running_mean", new long[] { 2 }, new float[2]));
            var d = Single(Bake(tensors), "CNN0036");
            Assert.Equal("Model 'M': the weights file 'bn.safetensors' has a tensor '2.running_mean' [2] that no layer of the model has (the model's keys: " +
                         "0.weight, 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked, 4.weight, 4.bias)", d.GetMessage(CultureInfo.InvariantCulture));
        }
    }
}
