using CnnGen;

namespace CnnGen.Samples.ResNet;

// An EfficientNet-style network for 1×28×28 images (Fashion-MNIST, MNIST), 10 classes. MBConv blocks as torchvision's
// EfficientNet builds them: 1×1 expansion (×4) + batch norm + Swish, a depthwise 3×3 + batch norm + Swish,
// squeeze-excitation, a 1×1 projection + batch norm (no activation); a block whose input and output shapes agree is
// residual. ([Swish] is [SiLU] under the EfficientNet paper's name: PyTorch's nn.SiLU, summary rows "SiLU-n".)
// The same block structure as the PyTorch parity fixture model_h (tools/golden/make_parity.py SmallMBConvNet).

[Block]
[Conv2d(16, 64, 1, Bias = false, Name = "expand.0")]
[BatchNorm2d(64, Name = "expand.1")]
[Swish]
[Conv2d(64, 64, 3, Padding = 1, Groups = 64, Bias = false, Name = "depthwise.0")]
[BatchNorm2d(64, Name = "depthwise.1")]
[Swish]
[SqueezeExcitation(64, 4, Name = "se")]
[Conv2d(64, 16, 1, Bias = false, Name = "project.0")]
[BatchNorm2d(16, Name = "project.1")]
public partial class MBConv16 { }

[Block]
[Conv2d(16, 64, 1, Bias = false, Name = "expand.0")]
[BatchNorm2d(64, Name = "expand.1")]
[Swish]
[Conv2d(64, 64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false, Name = "depthwise.0")]
[BatchNorm2d(64, Name = "depthwise.1")]
[Swish]
[SqueezeExcitation(64, 4, Name = "se")]
[Conv2d(64, 24, 1, Bias = false, Name = "project.0")]
[BatchNorm2d(24, Name = "project.1")]
public partial class MBConv16To24 { }

[Block]
[Conv2d(24, 96, 1, Bias = false, Name = "expand.0")]
[BatchNorm2d(96, Name = "expand.1")]
[Swish]
[Conv2d(96, 96, 3, Padding = 1, Groups = 96, Bias = false, Name = "depthwise.0")]
[BatchNorm2d(96, Name = "depthwise.1")]
[Swish]
[SqueezeExcitation(96, 4, Name = "se")]
[Conv2d(96, 24, 1, Bias = false, Name = "project.0")]
[BatchNorm2d(24, Name = "project.1")]
public partial class MBConv24 { }

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 16, 3, Stride = 2, Padding = 1, Bias = false, Name = "stem.0")]   // [16, 14, 14]
[BatchNorm2d(16, Name = "stem.1")]
[SiLU]
[Residual(typeof(MBConv16), Name = "blocks.0")]                               // [16, 14, 14], residual
[Sequential(typeof(MBConv16To24), Name = "blocks.1")]                         // [24, 7, 7], stride 2: no residual
[Residual(typeof(MBConv24), Name = "blocks.2")]                               // [24, 7, 7], residual
[Conv2d(24, 64, 1, Bias = false, Name = "head.0")]
[BatchNorm2d(64, Name = "head.1")]
[SiLU]
[AdaptiveAvgPool2d(1, Name = "avgpool")]
[Flatten]
[Dropout(0.2)]
[Linear(64, 10, Name = "fc")]
public partial class MBConvNet { }
