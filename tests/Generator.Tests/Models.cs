namespace CnnGen.Generator.Tests
{
    internal static class Models
    {
        /// <summary>The DESIGN.md model, verbatim.</summary>
        public const string Mnist = @"using CnnGen;

namespace Samples
{
    [Model]
    [Input(1, 28, 28)]                          // channels, height, width (one sample)
    [Conv2d(1, 16, 3)]
    [ReLU]
    [MaxPool2d(2, Stride = 2, Padding = 1)]
    [Conv2d(16, 32, 3)]
    [ReLU]
    [MaxPool2d(2, Stride = 2, Padding = 1)]
    [Flatten]
    [Linear(7 * 7 * 32, 32)]
    [ReLU]
    [Dropout(0.3)]
    [Linear(32, 10)]
    public partial class MnistCnn { }
}
";

        /// <summary>The DESIGN.md summary, verbatim.</summary>
        public const string MnistSummary =
@"----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Conv2d-1           [-1, 16, 26, 26]             160
              ReLU-2           [-1, 16, 26, 26]               0
         MaxPool2d-3           [-1, 16, 14, 14]               0
            Conv2d-4           [-1, 32, 12, 12]           4,640
              ReLU-5           [-1, 32, 12, 12]               0
         MaxPool2d-6             [-1, 32, 7, 7]               0
            Linear-7                   [-1, 32]          50,208
              ReLU-8                   [-1, 32]               0
           Dropout-9                   [-1, 32]               0
           Linear-10                   [-1, 10]             330
================================================================
Total params: 55,338
Trainable params: 55,338
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.27
Params size (MB): 0.21
Estimated Total Size (MB): 0.49
----------------------------------------------------------------
";

        /// <summary>Wraps attribute lines into a model class.</summary>
        public static string Model(string attributes, string name = "M") => $@"using CnnGen;
namespace T
{{
    [Model]
{attributes}
    public partial class {name} {{ }}
}}
";
    }
}
