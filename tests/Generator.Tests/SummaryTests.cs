using System.Linq;
using Xunit;

namespace CnnGen.Generator.Tests
{
    public class SummaryTests
    {
        [Fact]
        public void DesignModelSummaryMatchesDesignTableExactly()
        {
            var result = GeneratorHarness.Run(Models.Mnist);
            Assert.Empty(result.Errors);
            var asm = GeneratorHarness.Load(result);
            string summary = (string)GeneratorHarness.CallStatic(asm, "Samples.MnistCnn", "Summary", -1)!;
            Assert.Equal(Models.MnistSummary.Replace("\r\n", "\n"), summary);
            Assert.Equal(55338, GeneratorHarness.Const(asm, "Samples.MnistCnn", "ParameterCount"));
            Assert.Equal(784, GeneratorHarness.Const(asm, "Samples.MnistCnn", "InputSize"));
            Assert.Equal(10, GeneratorHarness.Const(asm, "Samples.MnistCnn", "OutputSize"));
        }

        [Fact]
        public void DesignModelGeneratedSourceMatchesSnapshot()
        {
            var result = GeneratorHarness.Run(Models.Mnist);
            Snapshot.Verify(result.GeneratedSource, "MnistCnn");
        }
    }
}
