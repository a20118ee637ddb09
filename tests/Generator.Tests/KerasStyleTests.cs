using System;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>Keras' names (namespace CnnGen.Keras) and the Activation argument; their diagnostics are in DiagnosticTests.Issue16.cs.</summary>
    public class KerasStyleTests
    {
        /// <summary>
        /// The TensorFlow CNN tutorial's model (tensorflow.org/tutorials/images/cnn), line for line:
        /// <c>Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3))</c>, <c>MaxPooling2D((2, 2))</c>, ...,
        /// <c>Flatten()</c>, <c>Dense(64, activation='relu')</c>, <c>Dense(10)</c>.
        /// </summary>
        private const string Tutorial = @"using CnnGen;
using CnnGen.Keras;
namespace T
{
    [Model]
    [Input(3, 32, 32)]
    [Conv2D(32, 3, 3, Activation = ""relu"")]
    [MaxPooling2D(2)]
    [Conv2D(64, 3, 3, Activation = ""relu"")]
    [MaxPooling2D(2)]
    [Conv2D(64, 3, 3, Activation = ""relu"")]
    [Flatten]
    [Dense(64, Activation = ""relu"")]
    [Dense(10)]
    public partial class M { }
}
";

        private const string TorchForm = @"using CnnGen;
namespace T
{
    [Model]
    [Input(3, 32, 32)]
    [Conv2d(3, 32, 3)]
    [ReLU]
    [MaxPool2d(2)]
    [Conv2d(32, 64, 3)]
    [ReLU]
    [MaxPool2d(2)]
    [Conv2d(64, 64, 3)]
    [ReLU]
    [Flatten]
    [Linear(1024, 64)]
    [ReLU]
    [Linear(64, 10)]
    public partial class P { }
}
";

        [Fact]
        public void TheTensorFlowTutorialModelPrintsTheTutorialsKerasSummary()
        {
            var r = GeneratorHarness.Run(Tutorial);
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            // The table the TensorFlow tutorial prints (model.summary(), tf.keras 2.9–2.12 layout as in
            // ShapeTests.KerasSummaryOfTheKerasTutorialModel): the activations are part of their layers' rows.
            // 3·32·9 + 32 = 896; 32·64·9 + 64 = 18,496; 64·64·9 + 64 = 36,928; 1024·64 + 64 = 65,600; 64·10 + 10 = 650.
            string[] lines =
            {
                "Model: \"sequential\"",
                "_________________________________________________________________",
                " Layer (type)                Output Shape              Param #   ",
                "=================================================================",
                " conv2d (Conv2D)             (None, 30, 30, 32)        896       ",
                "                                                                 ",
                " max_pooling2d (MaxPooling2D  (None, 15, 15, 32)       0         ",
                " )                                                               ",
                "                                                                 ",
                " conv2d_1 (Conv2D)           (None, 13, 13, 64)        18496     ",
                "                                                                 ",
                " max_pooling2d_1 (MaxPooling  (None, 6, 6, 64)         0         ",
                " 2D)                                                             ",
                "                                                                 ",
                " conv2d_2 (Conv2D)           (None, 4, 4, 64)          36928     ",
                "                                                                 ",
                " flatten (Flatten)           (None, 1024)              0         ",
                "                                                                 ",
                " dense (Dense)               (None, 64)                65600     ",
                "                                                                 ",
                " dense_1 (Dense)             (None, 10)                650       ",
                "                                                                 ",
                "=================================================================",
                "Total params: 122,570",
                "Trainable params: 122,570",
                "Non-trainable params: 0",
                "_________________________________________________________________",
                "",
            };
            Assert.Equal(string.Join("\n", lines), (string)GeneratorHarness.CallStatic(asm, "T.M", "KerasSummary")!);
            Assert.Equal(122_570, GeneratorHarness.Const(asm, "T.M", "ParameterCount"));
            // torchsummary: the modules only (an activation argument is no module), numbered as PyTorch numbers them.
            string torch = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.Contains("            Conv2d-1           [-1, 32, 30, 30]             896\n         MaxPool2d-2           [-1, 32, 15, 15]               0\n            Conv2d-3", torch);
            Assert.Contains("            Linear-7                   [-1, 10]             650\n====", torch);
            Assert.DoesNotContain("ReLU", torch);
        }

        [Fact]
        public void KerasFormComputesExactlyLikeThePyTorchForm()
        {
            var keras = GeneratorHarness.Run(Tutorial);
            var torch = GeneratorHarness.Run(TorchForm);
            Assert.Empty(keras.Errors);
            Assert.Empty(torch.Errors);
            var a = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(keras).GetType("T.M")!, 1)!;
            var b = (ICnnModel)Activator.CreateInstance(GeneratorHarness.Load(torch).GetType("T.P")!, 2)!;
            Assert.Equal(b.Parameters.Length, a.Parameters.Length);
            // Same tensors in the same order; keys count modules: the Keras form's are 0, 2, 4, 6, 7 in nn.Sequential terms
            // without ReLU modules: 0 (conv), 1 (pool), 2, 3, 4, 5 (flatten), 6, 7.
            Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias", "7.weight", "7.bias" },
                a.ParameterSlots.Select(s => s.Key));
            Assert.Equal(a.ParameterSlots.Select(s => string.Join(",", s.Shape)), b.ParameterSlots.Select(s => string.Join(",", s.Shape)));
            Array.Copy(b.Parameters, a.Parameters, b.Parameters.Length);
            var rng = new Random(9);
            const int n = 3;
            var x = Enumerable.Range(0, n * 3072).Select(_ => (float)rng.NextDouble()).ToArray();
            var ya = new float[n * 10];
            var yb = new float[n * 10];
            a.Forward(x, ya, n);
            b.Forward(x, yb, n);
            Assert.Equal(yb, ya);
        }

        [Fact]
        public void ActivationArgumentOnThePyTorchLayers()
        {
            var r = GeneratorHarness.Run(Models.Model(@"    [Input(1, 6, 6)]
    [Conv2d(1, 2, 3, Activation = ""tanh"")]
    [Flatten]
    [Linear(32, 3, Activation = ""softmax"")]"));
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            var m = (ICnnModel)Activator.CreateInstance(asm.GetType("T.M")!, 0)!;
            Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, m.ParameterSlots.Select(s => s.Key));
            var x = Enumerable.Range(0, 36).Select(i => (float)Math.Sin(i)).ToArray();
            var y = new float[3];
            m.Forward(x, y);
            // A naive float64 reference: conv 3×3 → tanh → flatten (channels first) → linear → softmax.
            float[] p = m.Parameters;
            var h = new double[2 * 4 * 4];
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                    {
                        double s = p[18 + c];
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 3; v++) s += p[c * 9 + u * 3 + v] * x[(i + u) * 6 + j + v];
                        h[c * 16 + i * 4 + j] = Math.Tanh(s);
                    }
            var z = new double[3];
            for (int o = 0; o < 3; o++)
            {
                z[o] = p[20 + 96 + o];
                for (int k = 0; k < 32; k++) z[o] += p[20 + o * 32 + k] * h[k];
            }
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
            for (int o = 0; o < 3; o++) Assert.Equal(Math.Exp(z[o] - max) / sum, y[o], 5);
            string summary = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.DoesNotContain("Tanh", summary);
            Assert.DoesNotContain("Softmax", summary);
        }

        [Fact]
        public void GlobalAveragePoolingGivesFeaturesAndSamePaddingKeepsTheSize()
        {
            var r = GeneratorHarness.Run(@"using CnnGen;
using CnnGen.Keras;
namespace T
{
    [Model]
    [Input(3, 9, 9)]
    [Conv2D(8, 3, Padding = ""same"", Activation = ""relu"")]
    [Conv2D(8, 3, Strides = 2, UseBias = false)]
    [GlobalAveragePooling2D]
    [Dense(4, Activation = ""softmax"")]
    public partial class M { }
}
");
            Assert.Empty(r.Errors);
            var asm = GeneratorHarness.Load(r);
            string keras = (string)GeneratorHarness.CallStatic(asm, "T.M", "KerasSummary")!;
            // 3·8·9 + 8 = 224 ("same": 9×9 kept); 8·8·9 = 576 (no bias; (9 − 3) / 2 + 1 = 4); global pooling gives (None, 8).
            Assert.Contains(" conv2d (Conv2D)             (None, 9, 9, 8)           224       \n", keras);
            Assert.Contains(" conv2d_1 (Conv2D)           (None, 4, 4, 8)           576       \n", keras);
            Assert.Contains(" global_average_pooling2d (G  (None, 8)                0         \n lobalAveragePooling2D)", keras);
            Assert.Contains(" dense (Dense)               (None, 4)                 36        \n", keras);
            string torch = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.Contains(" AdaptiveAvgPool2d-3              [-1, 8, 1, 1]               0\n            Linear-4                    [-1, 4]              36\n", torch);
        }
    }
}
