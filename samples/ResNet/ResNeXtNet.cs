using CnnGen;

namespace CnnGen.Samples.ResNet;

// A ResNeXt-style network for 1×28×28 images (Fashion-MNIST, MNIST), 10 classes: torchvision's Bottleneck with a
// grouped 3×3 convolution (cardinality 8) between the 1×1 reduce and the 1×1 expand, a 1×1 conv + batch norm projection
// where the shape changes. The same block structure as the PyTorch parity fixture model_i (tools/golden/make_parity.py
// SmallResNeXt).

[Block(ModuleName = "Bottleneck")]
[Conv2d(32, 32, 1, Bias = false, Name = "conv1")]
[BatchNorm2d(32, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(32, 32, 3, Padding = 1, Groups = 8, Bias = false, Name = "conv2")]
[BatchNorm2d(32, Name = "bn2")]
[ReLU(Name = "relu")]
[Conv2d(32, 64, 1, Bias = false, Name = "conv3")]
[BatchNorm2d(64, Name = "bn3")]
public partial class ResNeXtBlock64 { }

[Block]
[Conv2d(32, 64, 1, Bias = false)]
[BatchNorm2d(64)]
public partial class ResNeXtProjection64 { }

[Block(ModuleName = "Bottleneck")]
[Conv2d(64, 64, 1, Bias = false, Name = "conv1")]
[BatchNorm2d(64, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(64, 64, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false, Name = "conv2")]
[BatchNorm2d(64, Name = "bn2")]
[ReLU(Name = "relu")]
[Conv2d(64, 128, 1, Bias = false, Name = "conv3")]
[BatchNorm2d(128, Name = "bn3")]
public partial class ResNeXtBlock128Down { }

[Block]
[Conv2d(64, 128, 1, Stride = 2, Bias = false)]
[BatchNorm2d(128)]
public partial class ResNeXtProjection128 { }

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 32, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]                                   // [32, 14, 14]
[BatchNorm2d(32, Name = "bn1")]
[ReLU(Name = "relu")]
[Residual(typeof(ResNeXtBlock64), Shortcut = typeof(ResNeXtProjection64), ReLU = true, Name = "layer1.0")]   // [64, 14, 14]
[Residual(typeof(ResNeXtBlock128Down), Shortcut = typeof(ResNeXtProjection128), ReLU = true, Name = "layer2.0")] // [128, 7, 7]
[AdaptiveAvgPool2d(1, Name = "avgpool")]
[Flatten]
[Linear(128, 10, Name = "fc")]
public partial class ResNeXtNet { }
