using System.Diagnostics;
using System.IO;
using CnnGen.Samples.ResNet;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests;

/// <summary>
/// CI smoke test for the residual networks: samples/ResNet's CIFAR-sized ResNet (residual blocks with identity and
/// projection shortcuts, batch norm, squeeze-excitation, global average pooling) trains on synthetic 3×32×32 data
/// with decreasing loss, and its inference mode (running statistics) classifies fresh samples.
/// </summary>
public class ResNetSmokeTests
{
    private readonly ITestOutputHelper _out;
    public ResNetSmokeTests(ITestOutputHelper output) { _out = output; }

    [Fact]
    public void CifarResNetTrainsOnSyntheticDataWithDecreasingLoss()
    {
        var log = new StringWriter();
        var sw = Stopwatch.StartNew();
        var (final, first, accuracy) = SyntheticTraining.Run(steps: 200, log);
        _out.WriteLine(log.ToString());
        _out.WriteLine($"loss {first:F4} -> {final:F4}, accuracy {accuracy:P1}, {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(first > 2.0f, $"the first 20 steps should be near chance (ln 10 = 2.30), got {first}");
        Assert.True(final < 0.7f * first, $"loss should fall by 30% in 200 steps: {first} -> {final}");
        Assert.True(accuracy > 0.3, $"inference accuracy on fresh samples {accuracy:P1} (chance: 10%)");
    }
}
