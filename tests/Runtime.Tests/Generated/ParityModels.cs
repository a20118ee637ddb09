namespace CnnGen.Runtime.Tests.Generated;

// The models of tests/Runtime.Tests/Fixtures/parity/models, declared exactly as their fixtures'
// __metadata__["layers"] lists them (tools/golden/make_parity.py builds the same nn.Sequential).

[Model]
[Input(1, 28, 28)]
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
public partial class ModelA { }

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 32, 3)]
[ReLU]
[MaxPool2d(2)]
[Conv2d(32, 64, 3)]
[ReLU]
[MaxPool2d(2)]
[Conv2d(64, 64, 3)]
[ReLU]
[Flatten]
[Linear(576, 64)]
[ReLU]
[Linear(64, 10)]
[Softmax]
public partial class ModelB { }

[Model]
[Input(1, 28, 28)]
[Conv2d(1, 10, 5)]
[MaxPool2d(2)]
[ReLU]
[Conv2d(10, 20, 5)]
[Dropout2d(0.5)]
[MaxPool2d(2)]
[ReLU]
[Flatten]
[Linear(320, 50)]
[ReLU]
[Dropout(0.5)]
[Linear(50, 10)]
public partial class ModelC { }

[Model]
[Input(3, 17, 13)]
[Conv2d(3, 8, 3, Padding = 1, Dilation = 2)]
[LeakyReLU(0.2)]
[Conv2d(8, 8, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false)]
[ELU(0.7)]
[Conv2d(8, 12, 3, KernelHeight = 3, KernelWidth = 1, StrideHeight = 2, StrideWidth = 1, PaddingHeight = 1, PaddingWidth = 0, Groups = 2)]
[Tanh]
[AvgPool2d(3, Stride = 2, Padding = 1)]
[Flatten]
[Linear(72, 20, Bias = false)]
[Sigmoid]
[Linear(20, 7)]
[LogSoftmax]
public partial class ModelD { }

[Model]
[Input(2, 32, 30)]
[Conv2d(2, 6, 3, Stride = 2)]
[ReLU]
[MaxPool2d(3, Stride = 1, Dilation = 2)]
[Conv2d(6, 8, 3, Padding = 1)]
[ELU]
[MaxPool2d(3, KernelHeight = 3, KernelWidth = 2, StrideHeight = 2, StrideWidth = 1, PaddingHeight = 1, PaddingWidth = 0)]
[AvgPool2d(2)]
[Conv2d(8, 12, 3, Padding = 1)]
[ReLU]
[MaxPool2d(3, Stride = 2, Padding = 1)]
[Conv2d(12, 16, 2)]
[LeakyReLU(0.01)]
[Flatten]
[Linear(16, 10)]
[Softmax]
public partial class ModelE { }

// Training-mode fixture (tools/golden/make_parity.py TRAIN_MODELS): batch norm, ReLU6, SiLU, Identity,
// depthwise convolutions and global average pooling.
[Model]
[Input(3, 10, 9)]
[Conv2d(3, 8, 3, Padding = 1, Bias = false)]
[BatchNorm2d(8)]
[ReLU6]
[Conv2d(8, 8, 3, Padding = 2, Dilation = 2, Groups = 8)]
[SiLU]
[Conv2d(8, 8, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false)]
[BatchNorm2d(8, Eps = 0.001, Momentum = 0.2)]
[SiLU]
[Conv2d(8, 12, 1)]
[BatchNorm2d(12, Affine = false)]
[Identity]
[AdaptiveAvgPool2d(1)]
[Flatten]
[Linear(12, 5)]
public partial class ModelF { }

// Training-mode fixture model_g (tools/golden/make_parity.py SmallResNet, torchvision's BasicBlock and
// SqueezeExcitation restated): stem, an identity residual block, a downsampling one with a 1×1 conv + batch norm
// projection, squeeze-excitation, global average pooling, classifier. Keys as the nested PyTorch modules name them.
[Block(ModuleName = "BasicBlock")]
[Conv2d(8, 8, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(8, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(8, 8, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(8, Name = "bn2")]
public partial class BlockG8 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(8, 16, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(16, 16, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(16, Name = "bn2")]
public partial class BlockG16 { }

[Block]
[Conv2d(8, 16, 1, Stride = 2, Bias = false)]
[BatchNorm2d(16)]
public partial class DownG16 { }

[Model]
[Input(3, 16, 16)]
[Conv2d(3, 8, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(8, Name = "bn1")]
[ReLU(Name = "relu")]
[Residual(typeof(BlockG8), ReLU = true, Name = "layer1.0")]
[Residual(typeof(BlockG16), Shortcut = typeof(DownG16), ReLU = true, Name = "layer2.0")]
[SqueezeExcitation(16, 4, Name = "se")]
[AdaptiveAvgPool2d(1, Name = "avgpool")]
[Flatten]
[Linear(16, 5, Name = "fc")]
public partial class ModelG { }

// Training-mode fixture model_h (tools/golden/make_parity.py SmallMBConvNet): EfficientNet-style MBConv blocks
// (1×1 expansion, depthwise 3×3, squeeze-excitation, 1×1 projection), the first one residual, so the
// squeeze-excitation branch is nested inside the residual branch.
[Block]
[Conv2d(16, 64, 1, Bias = false, Name = "expand.0")]
[BatchNorm2d(64, Name = "expand.1")]
[SiLU]
[Conv2d(64, 64, 3, Padding = 1, Groups = 64, Bias = false, Name = "depthwise.0")]
[BatchNorm2d(64, Name = "depthwise.1")]
[SiLU]
[SqueezeExcitation(64, 4, Name = "se")]
[Conv2d(64, 16, 1, Bias = false, Name = "project.0")]
[BatchNorm2d(16, Name = "project.1")]
public partial class MBConv16 { }

[Block]
[Conv2d(16, 64, 1, Bias = false, Name = "expand.0")]
[BatchNorm2d(64, Name = "expand.1")]
[SiLU]
[Conv2d(64, 64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false, Name = "depthwise.0")]
[BatchNorm2d(64, Name = "depthwise.1")]
[SiLU]
[SqueezeExcitation(64, 4, Name = "se")]
[Conv2d(64, 24, 1, Bias = false, Name = "project.0")]
[BatchNorm2d(24, Name = "project.1")]
public partial class MBConv16To24 { }

[Model]
[Input(3, 12, 12)]
[Conv2d(3, 16, 3, Padding = 1, Bias = false, Name = "stem.0")]
[BatchNorm2d(16, Name = "stem.1")]
[SiLU]
[Residual(typeof(MBConv16), Name = "blocks.0")]
[Sequential(typeof(MBConv16To24), Name = "blocks.1")]
[AdaptiveAvgPool2d(1)]
[Flatten]
[Linear(24, 5, Name = "fc")]
public partial class ModelH { }

// Training-mode fixture model_i (tools/golden/make_parity.py SmallResNeXt): ResNeXt bottlenecks with a grouped 3×3
// convolution (cardinality 4), a downsampling one with a 1×1 projection and an identity one.
[Block(ModuleName = "Bottleneck")]
[Conv2d(16, 16, 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(16, 16, 3, Stride = 2, Padding = 1, Groups = 4, Bias = false, Name = "conv2")]
[BatchNorm2d(16, Name = "bn2")]
[ReLU(Name = "relu")]
[Conv2d(16, 32, 1, Bias = false, Name = "conv3")]
[BatchNorm2d(32, Name = "bn3")]
public partial class ResNeXtDown32 { }

[Block]
[Conv2d(16, 32, 1, Stride = 2, Bias = false)]
[BatchNorm2d(32)]
public partial class ResNeXtProjection32 { }

[Block(ModuleName = "Bottleneck")]
[Conv2d(32, 16, 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(16, 16, 3, Padding = 1, Groups = 4, Bias = false, Name = "conv2")]
[BatchNorm2d(16, Name = "bn2")]
[ReLU(Name = "relu")]
[Conv2d(16, 32, 1, Bias = false, Name = "conv3")]
[BatchNorm2d(32, Name = "bn3")]
public partial class ResNeXt32 { }

[Block]
[Residual(typeof(ResNeXtDown32), Shortcut = typeof(ResNeXtProjection32), ReLU = true)]
[Residual(typeof(ResNeXt32), ReLU = true)]
public partial class ResNeXtLayer1 { }

[Model]
[Input(3, 12, 12)]
[Conv2d(3, 16, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(16, Name = "bn1")]
[ReLU(Name = "relu")]
[Sequential(typeof(ResNeXtLayer1), Name = "layer1")]
[AdaptiveAvgPool2d(1)]
[Flatten]
[Linear(32, 5, Name = "fc")]
public partial class ModelI { }
