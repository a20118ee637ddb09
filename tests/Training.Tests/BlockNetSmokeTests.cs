using System.Diagnostics;
using System.IO;
using CnnGen.Samples.ResNet;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests;

/// <summary>
/// CI smoke tests for samples/ResNet's MBConv (EfficientNet-style: expansion, depthwise, squeeze-excitation, residual)
/// and ResNeXt (grouped-convolution bottlenecks, projection shortcuts) networks: 200 steps on real MNIST digits
/// (../shared/data/mnist) with decreasing loss, then inference (batch norm folded into the convolutions, running
/// statistics) on 1,000 test digits well above chance.
/// </summary>
public class BlockNetSmokeTests
{
    private readonly ITestOutputHelper _out;
    public BlockNetSmokeTests(ITestOutputHelper output) { _out = output; }

    private void TrainsWithDecreasingLoss(ICnnModel model, string name)
    {
        var log = new StringWriter();
        var sw = Stopwatch.StartNew();
        var (first, final, accuracy) = ImageTraining.Run(model, TestData.Train, TestData.Test, steps: 200, log);
        _out.WriteLine(log.ToString());
        _out.WriteLine($"{name}: loss {first:F4} -> {final:F4}, test accuracy {accuracy:P1} on 1,000 digits, {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(first > 1.0f, $"the first 20 steps should be far from trained (chance: ln 10 = 2.30), got {first}");
        Assert.True(final < 0.5f * first, $"loss should halve in 200 steps: {first} -> {final}");
        Assert.True(accuracy > 0.7, $"inference accuracy on test digits {accuracy:P1} (chance: 10%)");
    }

    [Fact]
    public void MBConvNetTrainsOnMnistWithDecreasingLoss() => TrainsWithDecreasingLoss(new MBConvNet(seed: 1), "MBConvNet");

    [Fact]
    public void ResNeXtNetTrainsOnMnistWithDecreasingLoss() => TrainsWithDecreasingLoss(new ResNeXtNet(seed: 1), "ResNeXtNet");
}
