using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Issue 6's leaf layers (BatchNorm2d, AdaptiveAvgPool2d(1) / GlobalAvgPool2d, ReLU6, SiLU, Identity, depthwise
    /// convolution): summaries against torchsummary (tools/golden/torchsummary_golden.py prints the expected table),
    /// parameter counts, the generated source, and the diagnostics CNN0040–CNN0041 plus the argument checks.
    /// </summary>
    public class Issue6Tests
    {
        internal const string LeafLayers = @"using CnnGen;
namespace T
{
    [Model]
    [Input(3, 32, 32)]
    [Conv2d(3, 16, 3, Padding = 1, Bias = false)]
    [BatchNorm2d(16)]
    [ReLU6]
    [Conv2d(16, 16, 3, Padding = 1, Groups = 16)]
    [SiLU]
    [Identity]
    [GlobalAvgPool2d]
    [Flatten]
    [Linear(16, 10)]
    public partial class Leaf { }
}
";

        // /usr/bin/python3 tools/golden/torchsummary_golden.py (leaf_layers_model: nn.Sequential of the same modules,
        // GlobalAvgPool2d as nn.AdaptiveAvgPool2d(1), flattening with view).
        internal const string LeafLayersSummary = @"----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Conv2d-1           [-1, 16, 32, 32]             432
       BatchNorm2d-2           [-1, 16, 32, 32]              32
             ReLU6-3           [-1, 16, 32, 32]               0
            Conv2d-4           [-1, 16, 32, 32]             160
              SiLU-5           [-1, 16, 32, 32]               0
          Identity-6           [-1, 16, 32, 32]               0
 AdaptiveAvgPool2d-7             [-1, 16, 1, 1]               0
            Linear-8                   [-1, 10]             170
================================================================
Total params: 794
Trainable params: 794
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.01
Forward/backward pass size (MB): 0.75
Params size (MB): 0.00
Estimated Total Size (MB): 0.76
----------------------------------------------------------------
";

        [Fact]
        public void LeafLayersSummaryMatchesTorchsummary()
        {
            var r = GeneratorHarness.Run(LeafLayers);
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(LeafLayersSummary.Replace("\r\n", "\n"), (string)GeneratorHarness.CallStatic(asm, "T.Leaf", "Summary", -1)!);
            // torchsummary counts parameters only: BatchNorm2d(16) has γ and β (32), not its running statistics.
            Assert.Equal(794, GeneratorHarness.Const(asm, "T.Leaf", "ParameterCount"));
            Assert.Equal(10, GeneratorHarness.Const(asm, "T.Leaf", "OutputSize"));
        }

        [Fact]
        public void LeafLayersKerasSummaryCountsMovingStatisticsAsNonTrainable()
        {
            var r = GeneratorHarness.Run(LeafLayers);
            var asm = GeneratorHarness.Load(r);
            string keras = (string)GeneratorHarness.CallStatic(asm, "T.Leaf", "KerasSummary")!;
            // Keras' BatchNormalization(16) holds gamma, beta, moving_mean, moving_variance: 64 weights, 32 non-trainable.
            Assert.Contains(" batch_normalization (BatchN  (None, 32, 32, 16)       64", keras);
            Assert.Contains(" global_average_pooling2d (G  (None, 1, 1, 16)         0", keras);
            Assert.Contains("\nTotal params: 826\nTrainable params: 794\nNon-trainable params: 32\n", keras);
        }

        [Fact]
        public void LeafLayersGeneratedSourceMatchesSnapshot()
        {
            var r = GeneratorHarness.Run(LeafLayers);
            Assert.Empty(r.Errors);
            Snapshot.Verify(r.GeneratedSource, "LeafLayers");
        }

        [Fact]
        public void BatchNormKeysAndBuffersFollowPyTorch()
        {
            var r = GeneratorHarness.Run(LeafLayers.Replace("[BatchNorm2d(16)]", "[BatchNorm2d(16, Name = \"bn1\")]"));
            Assert.Empty(r.Errors);
            string src = r.GeneratedSource;
            Assert.Contains("new global::CnnGen.IO.TensorSlot(\"bn1.weight\", new int[] { 16 }, 432)", src);
            Assert.Contains("new global::CnnGen.IO.TensorSlot(\"bn1.bias\", new int[] { 16 }, 448)", src);
            Assert.Contains("new global::CnnGen.IO.TensorSlot(\"bn1.running_mean\", new int[] { 16 }, ParameterCount + 0)", src);
            Assert.Contains("new global::CnnGen.IO.TensorSlot(\"bn1.running_var\", new int[] { 16 }, ParameterCount + 16)", src);
            Assert.Contains("new global::CnnGen.IO.TensorSlot(\"bn1.num_batches_tracked\", new int[0], ParameterCount + 32) { DType = global::CnnGen.IO.SafeTensorDType.I64 }", src);
            // Conv2d-4 is depthwise: computed directly, no im2col helper.
            Assert.DoesNotContain("Conv2d_4_Im2Col", src);
            Assert.Contains("Conv2d_1_Im2Col", src);
        }

        [Fact]
        public void InferenceFoldsBatchNormIntoTheConvolutionBeforeItOnly()
        {
            // Conv2d-1 + BatchNorm2d-2 fold; BatchNorm2d-4 follows a ReLU6 and still normalizes on its own.
            var r = GeneratorHarness.Run(LeafLayers.Replace("[ReLU6]", "[ReLU6]\n    [BatchNorm2d(16, Eps = 0.001)]"));
            Assert.Empty(r.Errors);
            string src = r.GeneratedSource;
            Assert.Contains("LayerOps.FoldBatchNorm(p + 0, null, p + 432, p + 448, rb, rb + 16, 1E-05f, 16, 27, fp, fp + 432);", src);
            Assert.Contains("Conv2d_1_Forward(x0, pa, fp, col, null, null, n, false, null); // BatchNorm2d-2 folded in", src);
            Assert.Contains("LayerOps.AddChannelBias(pa, fp + 432, n, 16, 1024); // the folded bias b'", src);
            Assert.DoesNotContain("BatchNorm2d_2_Inference", src);
            Assert.Contains("BatchNorm2d_4_Inference(pa, pa, p, rb + 33, n);", src);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(src, @"LayerOps\.FoldBatchNorm\(").Cast<object>());
            // Training keeps batch norm separate: batch statistics, running statistics updated.
            Assert.Contains("BatchNorm2d_2_Forward(act + ", src);
            Assert.Contains("Conv2d_1_Forward(act + ", src);
        }

        [Fact]
        public void PairsWithMoreWeightsThanOutputsScaleInsteadOfFolding()
        {
            // Conv2d-5 (16 -> 32, 3×3 at 4×4): 4,608 weights, 512 outputs per sample: a folded copy of its weights would cost
            // as much as 9 samples' batch norm, so inference applies the batch norm as scale and shift after it (at every
            // batch size; ScaledBatchNormTests checks the values); Conv2d-1 (432 weights, 1,024 outputs) folds.
            var r = GeneratorHarness.Run(Models.Model("    [Input(3, 8, 8)]\n    [Conv2d(3, 16, 3, Padding = 1, Bias = false)]\n    [BatchNorm2d(16)]\n    [ReLU]\n    [MaxPool2d(2)]\n" +
                                                      "    [Conv2d(16, 32, 3, Padding = 1, Bias = false)]\n    [BatchNorm2d(32)]\n    [Flatten]\n    [Linear(512, 3)]"));
            Assert.Empty(r.Errors);
            string src = r.GeneratedSource;
            Assert.Contains("    global::CnnGen.Kernels.LayerOps.FoldBatchNorm(p + 0, null, p + 432, p + 448, rb, rb + 16, 1E-05f, 16, 27, fp, fp + 432);", src);
            Assert.Contains("    global::CnnGen.Kernels.LayerOps.BatchNormScaleShift(null, p + 5072, p + 5104, rb + 33, rb + 65, 1E-05f, 32, fp + 448, fp + 480);", src);
            // [W' | b'] of Conv2d-1, then [scale | shift] of Conv2d-5: 448 + 64 floats, whatever the batch size.
            Assert.Contains("private const int FoldedCount = 512;", src);
            Assert.Contains("private static int FoldedFloats(int batchSize) => FoldedCount;", src);
            Assert.Contains("Conv2d_5_Forward(pb, pa, p, col, null, null, n, false, null);", src);
            Assert.Contains("global::CnnGen.Kernels.LayerOps.ChannelScaleShift(pa, fp + 448, fp + 480, n, 32, 16); // BatchNorm2d-6: scale, shift", src);
            Assert.DoesNotContain("BatchNorm2d_6_Inference", src);
            Assert.DoesNotContain("BatchNorm2d_2_Inference", src);
            Assert.DoesNotContain("if (batchSize >=", src);
        }

        [Fact]
        public void SwishIsSiLUUnderItsOtherName()
        {
            // [Swish] compiles to exactly the code of [SiLU], and its summary row is torchsummary's for nn.SiLU ("SiLU-5").
            var silu = GeneratorHarness.Run(LeafLayers);
            var swish = GeneratorHarness.Run(LeafLayers.Replace("[SiLU]", "[Swish]"));
            Assert.Empty(swish.Errors);
            Assert.Equal(silu.GeneratedSource, swish.GeneratedSource);
            var asm = GeneratorHarness.Load(swish);
            Assert.Equal(LeafLayersSummary, (string)GeneratorHarness.CallStatic(asm, "T.Leaf", "Summary", -1)!);
            Assert.Contains("              SiLU-5           [-1, 16, 32, 32]               0", LeafLayersSummary);
        }

        [Fact]
        public void AffineFalseHasNoParametersButKeepsBuffers()
        {
            var r = GeneratorHarness.Run(LeafLayers.Replace("[BatchNorm2d(16)]", "[BatchNorm2d(16, Affine = false)]"));
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(762, GeneratorHarness.Const(asm, "T.Leaf", "ParameterCount"));
            Assert.Contains("\"1.running_mean\"", r.GeneratedSource);
            Assert.DoesNotContain("\"1.weight\"", r.GeneratedSource);
        }

        [Fact]
        public void GlobalPoolingKeepsOneByOneSpatialShape()
        {
            var r = GeneratorHarness.Run(Models.Model("    [Input(3, 7, 5)]\n    [GlobalAvgPool2d]\n    [BatchNorm2d(3)]"));
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            var asm = GeneratorHarness.Load(r);
            Assert.Equal(3, GeneratorHarness.Const(asm, "T.M", "OutputSize"));
            Assert.Contains("AdaptiveAvgPool2d-1              [-1, 3, 1, 1]", (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!);
        }
    }
}
