using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>Big enough that every intra-op split runs: the blocked GEMM (≥ 4M multiply-adds) and the depthwise kernel (≥ 256K).</summary>
[Model]
[Input(3, 64, 64)]
[Conv2d(3, 32, 3, Padding = 1)]
[BatchNorm2d(32)]
[ReLU]
[Conv2d(32, 64, 3, Padding = 1, Bias = false)]
[BatchNorm2d(64)]
[SiLU]
[Conv2d(64, 64, 3, Padding = 1, Groups = 64, Bias = false)]
[BatchNorm2d(64)]
[SiLU]
[AdaptiveAvgPool2d(1)]
[Flatten]
[Linear(64, 10)]
public partial class IntraOpNet { }

/// <summary>
/// A generated model's Forward with Parallelism.IntraOpThreads = 2 (each large product and depthwise convolution split
/// over the caller and the helper thread) gives the same bits as on one thread, at batch 1 and 3, and with two
/// callers at once (the helper serves one; the other runs serially).
/// </summary>
public class IntraOpForwardTests
{
    [Fact]
    public void TwoIntraOpThreadsGiveTheSameBits()
    {
        var model = new IntraOpNet(3);
        var rng = new Random(4);
        for (int i = 0; i < model.Buffers.Length; i++) model.Buffers[i] = 0.5f + (float)rng.NextDouble(); // BN statistics away from (0, 1)
        var x = new float[3 * IntraOpNet.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var serial1 = new float[IntraOpNet.OutputSize];
        var serial3 = new float[3 * IntraOpNet.OutputSize];
        model.Forward(x.AsSpan(0, IntraOpNet.InputSize), serial1);
        model.Forward(x, serial3, 3);
        int before = Parallelism.IntraOpThreads;
        try
        {
            Parallelism.IntraOpThreads = 2;
            System.Threading.Tasks.Parallel.For(0, 2, k =>
            {
                var y1 = new float[IntraOpNet.OutputSize];
                var y3 = new float[3 * IntraOpNet.OutputSize];
                for (int rep = 0; rep < 5; rep++)
                {
                    model.Forward(x.AsSpan(0, IntraOpNet.InputSize), y1);
                    model.Forward(x, y3, 3);
                    for (int i = 0; i < y1.Length; i++) Assert.True(BitConverter.SingleToInt32Bits(y1[i]) == BitConverter.SingleToInt32Bits(serial1[i]), $"caller {k}: batch-1 output {i}: {y1[i]:R} vs {serial1[i]:R}");
                    for (int i = 0; i < y3.Length; i++) Assert.True(BitConverter.SingleToInt32Bits(y3[i]) == BitConverter.SingleToInt32Bits(serial3[i]), $"caller {k}: batch-3 output {i}: {y3[i]:R} vs {serial3[i]:R}");
                }
            });
        }
        finally { Parallelism.IntraOpThreads = before; }
    }
}
