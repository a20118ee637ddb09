using CnnGen;

namespace CnnGen.Samples.ResNet;

// A CIFAR-sized ResNet (3×32×32, 10 classes): a 3×3 stem, one identity BasicBlock at 16 channels, one downsampling
// BasicBlock to 32 channels (1×1 projection shortcut), squeeze-excitation, global average pooling, a classifier.

[Block(ModuleName = "BasicBlock")]
[Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(16, Name = "bn2")]
public partial class CifarBlock16 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(16, 32, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(32, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(32, 32, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(32, Name = "bn2")]
public partial class CifarBlock32Down { }

[Block]
[Conv2d(16, 32, 1, Stride = 2, Bias = false)]
[BatchNorm2d(32)]
public partial class CifarDownsample32 { }

[Model]
[Input(3, 32, 32)]
[Conv2d(3, 16, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Residual(typeof(CifarBlock16), ReLU = true, Name = "layer1.0")]
[Residual(typeof(CifarBlock32Down), Shortcut = typeof(CifarDownsample32), ReLU = true, Name = "layer2.0")]
[SqueezeExcitation(32, 4, Name = "se")]
[AdaptiveAvgPool2d(1, Name = "avgpool")]
[Flatten]
[Linear(32, 10, Name = "fc")]
public partial class CifarResNet { }
