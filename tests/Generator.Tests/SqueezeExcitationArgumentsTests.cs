using System;
using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>SqueezeExcitation's Activation, ScaleActivation and SqueezeChannels (torchvision's activation=, scale_activation=, squeeze_channels).</summary>
    public class SqueezeExcitationArgumentsTests
    {
        [Fact]
        public void InnerActivationGateAndSqueezeChannelsComputeAsAFloat64Reference()
        {
            var r = GeneratorHarness.Run(Models.Model(
                "    [Input(4, 3, 3)]\n    [SqueezeExcitation(4, 2, SqueezeChannels = 3, Activation = \"silu\", ScaleActivation = \"tanh\", Name = \"se\")]"));
            Assert.Empty(r.Errors);
            Assert.Empty(r.Cnn);
            var asm = GeneratorHarness.Load(r);
            var m = (ICnnModel)Activator.CreateInstance(asm.GetType("T.M")!, 4)!;
            Assert.Equal(new[] { "se.fc1.weight [3, 4, 1, 1]", "se.fc1.bias [3]", "se.fc2.weight [4, 3, 1, 1]", "se.fc2.bias [4]" },
                m.ParameterSlots.Select(s => $"{s.Key} [{string.Join(", ", s.Shape)}]"));
            // torchsummary rows as torchvision's SqueezeExcitation(4, 3, activation=nn.SiLU, scale_activation=nn.Tanh) hooks them.
            string summary = (string)GeneratorHarness.CallStatic(asm, "T.M", "Summary", -1)!;
            Assert.Contains("              SiLU-3              [-1, 3, 1, 1]               0\n", summary);
            Assert.Contains("              Tanh-5              [-1, 4, 1, 1]               0\n", summary);

            var rng = new Random(3);
            var x = Enumerable.Range(0, 2 * 36).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            var y = new float[2 * 36];
            m.Forward(x, y, 2);
            float[] p = m.Parameters;
            int w1 = m.ParameterSlots[0].Offset, b1 = m.ParameterSlots[1].Offset, w2 = m.ParameterSlots[2].Offset, b2 = m.ParameterSlots[3].Offset;
            for (int n = 0; n < 2; n++)
            {
                var mean = new double[4];
                for (int c = 0; c < 4; c++) for (int i = 0; i < 9; i++) mean[c] += x[n * 36 + c * 9 + i] / 9.0;
                var a = new double[3];
                for (int k = 0; k < 3; k++)
                {
                    double h = p[b1 + k];
                    for (int c = 0; c < 4; c++) h += p[w1 + k * 4 + c] * mean[c];
                    a[k] = h / (1 + Math.Exp(-h)); // SiLU
                }
                for (int c = 0; c < 4; c++)
                {
                    double g = p[b2 + c];
                    for (int k = 0; k < 3; k++) g += p[w2 + c * 3 + k] * a[k];
                    double s = Math.Tanh(g);
                    for (int i = 0; i < 9; i++) Assert.Equal(x[n * 36 + c * 9 + i] * s, y[n * 36 + c * 9 + i], 5);
                }
            }
        }

        [Fact]
        public void TheDefaultsAreReLUAndSigmoid()
        {
            var r = GeneratorHarness.Run(Models.Model("    [Input(4, 3, 3)]\n    [SqueezeExcitation(4, 2)]"));
            Assert.Empty(r.Errors);
            string summary = (string)GeneratorHarness.CallStatic(GeneratorHarness.Load(r), "T.M", "Summary", -1)!;
            Assert.Contains("              ReLU-3              [-1, 2, 1, 1]               0\n", summary);
            Assert.Contains("           Sigmoid-5              [-1, 4, 1, 1]               0\n", summary);
        }
    }
}
