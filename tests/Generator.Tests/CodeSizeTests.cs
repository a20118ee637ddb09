using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Generated code unrolls kernel taps and register tiles, never output pixels: its size grows with the number of
    /// layers, not with the image size.
    /// </summary>
    public class CodeSizeTests
    {
        private readonly ITestOutputHelper _out;
        public CodeSizeTests(ITestOutputHelper output) { _out = output; }

        private static string Net(int size) => Models.Model($@"    [Input(3, {size}, {size})]
    [Conv2d(3, 64, 7, Stride = 2, Padding = 3)]
    [ReLU]
    [MaxPool2d(3, Stride = 2, Padding = 1)]
    [Conv2d(64, 128, 3, Padding = 1)]
    [ReLU]
    [MaxPool2d(2)]
    [Conv2d(128, 256, 3, Padding = 1)]
    [ReLU]
    [AvgPool2d(2)]
    [Flatten]
    [Linear({256 * (size / 16) * (size / 16)}, 1000)]");

        [Fact]
        public void GeneratedSizeDoesNotGrowWithTheImage()
        {
            int Size(string src)
            {
                var r = GeneratorHarness.Run(src);
                Assert.Empty(r.Errors);
                return Encoding.UTF8.GetByteCount(r.GeneratedSource);
            }
            int small = Size(Net(32)), large = Size(Net(224));
            int design = Size(Models.Mnist);
            _out.WriteLine($"generated source: DESIGN.md model {design:N0} bytes; 3x32x32 net {small:N0} bytes; same net at 3x224x224 {large:N0} bytes");
            Assert.True(large <= small * 1.25, $"3x224x224: {large:N0} bytes vs 3x32x32: {small:N0} bytes");
        }
    }
}
