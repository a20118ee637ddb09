using CnnGen;

namespace CnnGen.Samples.EfficientNet;

// torchvision's efficientnet_b0() (torchvision 0.14, torchvision/models/efficientnet.py), module for module: 5,288,548
// parameters and the state_dict keys of torchvision's model (features.0.0.weight ... classifier.1.bias), so its weights load
// with LoadWeights. Each MBConv is a [Block]: torchvision's block Sequential (Conv2dNormActivation 1×1 expansion unless the
// expand ratio is 1, the depthwise Conv2dNormActivation, SqueezeExcitation(activation=SiLU, squeeze to a quarter of the block's
// input channels), the 1×1 projection Conv2dNormActivation without activation), its keys under "block."; a block with stride 1
// and equal channels is [Residual] (StochasticDepth is the identity in inference), the others [Sequential].
// Batch norm eps 1e-5 (BatchNorm2d's default, as torchvision's B0); the classifier's Dropout(0.2) is identity in inference.

// MBConv(expand 1, kernel 3, stride 1): 32 -> 32 -> 16 channels, squeeze to 8
[Block]
[Conv2d(32, 32, 3, Stride = 1, Padding = 1, Groups = 32, Bias = false, Name = "block.0.0")]
[BatchNorm2d(32, Name = "block.0.1")]
[SiLU]
[SqueezeExcitation(32, 4, SqueezeChannels = 8, Activation = "silu", Name = "block.1")]
[Conv2d(32, 16, 1, Bias = false, Name = "block.2.0")]
[BatchNorm2d(16, Name = "block.2.1")]
public partial class MBConv1_32To16_K3S1 { }

// MBConv(expand 6, kernel 3, stride 2): 16 -> 96 -> 24 channels, squeeze to 4
[Block]
[Conv2d(16, 96, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(96, Name = "block.0.1")]
[SiLU]
[Conv2d(96, 96, 3, Stride = 2, Padding = 1, Groups = 96, Bias = false, Name = "block.1.0")]
[BatchNorm2d(96, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(96, 24, SqueezeChannels = 4, Activation = "silu", Name = "block.2")]
[Conv2d(96, 24, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(24, Name = "block.3.1")]
public partial class MBConv6_16To24_K3S2 { }

// MBConv(expand 6, kernel 3, stride 1): 24 -> 144 -> 24 channels, squeeze to 6; residual
[Block]
[Conv2d(24, 144, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(144, Name = "block.0.1")]
[SiLU]
[Conv2d(144, 144, 3, Stride = 1, Padding = 1, Groups = 144, Bias = false, Name = "block.1.0")]
[BatchNorm2d(144, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(144, 24, SqueezeChannels = 6, Activation = "silu", Name = "block.2")]
[Conv2d(144, 24, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(24, Name = "block.3.1")]
public partial class MBConv6_24To24_K3S1 { }

// MBConv(expand 6, kernel 5, stride 2): 24 -> 144 -> 40 channels, squeeze to 6
[Block]
[Conv2d(24, 144, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(144, Name = "block.0.1")]
[SiLU]
[Conv2d(144, 144, 5, Stride = 2, Padding = 2, Groups = 144, Bias = false, Name = "block.1.0")]
[BatchNorm2d(144, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(144, 24, SqueezeChannels = 6, Activation = "silu", Name = "block.2")]
[Conv2d(144, 40, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(40, Name = "block.3.1")]
public partial class MBConv6_24To40_K5S2 { }

// MBConv(expand 6, kernel 5, stride 1): 40 -> 240 -> 40 channels, squeeze to 10; residual
[Block]
[Conv2d(40, 240, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(240, Name = "block.0.1")]
[SiLU]
[Conv2d(240, 240, 5, Stride = 1, Padding = 2, Groups = 240, Bias = false, Name = "block.1.0")]
[BatchNorm2d(240, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(240, 24, SqueezeChannels = 10, Activation = "silu", Name = "block.2")]
[Conv2d(240, 40, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(40, Name = "block.3.1")]
public partial class MBConv6_40To40_K5S1 { }

// MBConv(expand 6, kernel 3, stride 2): 40 -> 240 -> 80 channels, squeeze to 10
[Block]
[Conv2d(40, 240, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(240, Name = "block.0.1")]
[SiLU]
[Conv2d(240, 240, 3, Stride = 2, Padding = 1, Groups = 240, Bias = false, Name = "block.1.0")]
[BatchNorm2d(240, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(240, 24, SqueezeChannels = 10, Activation = "silu", Name = "block.2")]
[Conv2d(240, 80, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(80, Name = "block.3.1")]
public partial class MBConv6_40To80_K3S2 { }

// MBConv(expand 6, kernel 3, stride 1): 80 -> 480 -> 80 channels, squeeze to 20; residual
[Block]
[Conv2d(80, 480, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(480, Name = "block.0.1")]
[SiLU]
[Conv2d(480, 480, 3, Stride = 1, Padding = 1, Groups = 480, Bias = false, Name = "block.1.0")]
[BatchNorm2d(480, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(480, 24, SqueezeChannels = 20, Activation = "silu", Name = "block.2")]
[Conv2d(480, 80, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(80, Name = "block.3.1")]
public partial class MBConv6_80To80_K3S1 { }

// MBConv(expand 6, kernel 5, stride 1): 80 -> 480 -> 112 channels, squeeze to 20
[Block]
[Conv2d(80, 480, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(480, Name = "block.0.1")]
[SiLU]
[Conv2d(480, 480, 5, Stride = 1, Padding = 2, Groups = 480, Bias = false, Name = "block.1.0")]
[BatchNorm2d(480, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(480, 24, SqueezeChannels = 20, Activation = "silu", Name = "block.2")]
[Conv2d(480, 112, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(112, Name = "block.3.1")]
public partial class MBConv6_80To112_K5S1 { }

// MBConv(expand 6, kernel 5, stride 1): 112 -> 672 -> 112 channels, squeeze to 28; residual
[Block]
[Conv2d(112, 672, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(672, Name = "block.0.1")]
[SiLU]
[Conv2d(672, 672, 5, Stride = 1, Padding = 2, Groups = 672, Bias = false, Name = "block.1.0")]
[BatchNorm2d(672, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(672, 24, SqueezeChannels = 28, Activation = "silu", Name = "block.2")]
[Conv2d(672, 112, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(112, Name = "block.3.1")]
public partial class MBConv6_112To112_K5S1 { }

// MBConv(expand 6, kernel 5, stride 2): 112 -> 672 -> 192 channels, squeeze to 28
[Block]
[Conv2d(112, 672, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(672, Name = "block.0.1")]
[SiLU]
[Conv2d(672, 672, 5, Stride = 2, Padding = 2, Groups = 672, Bias = false, Name = "block.1.0")]
[BatchNorm2d(672, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(672, 24, SqueezeChannels = 28, Activation = "silu", Name = "block.2")]
[Conv2d(672, 192, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(192, Name = "block.3.1")]
public partial class MBConv6_112To192_K5S2 { }

// MBConv(expand 6, kernel 5, stride 1): 192 -> 1152 -> 192 channels, squeeze to 48; residual
[Block]
[Conv2d(192, 1152, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(1152, Name = "block.0.1")]
[SiLU]
[Conv2d(1152, 1152, 5, Stride = 1, Padding = 2, Groups = 1152, Bias = false, Name = "block.1.0")]
[BatchNorm2d(1152, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(1152, 24, SqueezeChannels = 48, Activation = "silu", Name = "block.2")]
[Conv2d(1152, 192, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(192, Name = "block.3.1")]
public partial class MBConv6_192To192_K5S1 { }

// MBConv(expand 6, kernel 3, stride 1): 192 -> 1152 -> 320 channels, squeeze to 48
[Block]
[Conv2d(192, 1152, 1, Bias = false, Name = "block.0.0")]
[BatchNorm2d(1152, Name = "block.0.1")]
[SiLU]
[Conv2d(1152, 1152, 3, Stride = 1, Padding = 1, Groups = 1152, Bias = false, Name = "block.1.0")]
[BatchNorm2d(1152, Name = "block.1.1")]
[SiLU]
[SqueezeExcitation(1152, 24, SqueezeChannels = 48, Activation = "silu", Name = "block.2")]
[Conv2d(1152, 320, 1, Bias = false, Name = "block.3.0")]
[BatchNorm2d(320, Name = "block.3.1")]
public partial class MBConv6_192To320_K3S1 { }

[Model]
[Input(3, 224, 224)]
[Conv2d(3, 32, 3, Stride = 2, Padding = 1, Bias = false, Name = "features.0.0")]   // [32, 112, 112]
[BatchNorm2d(32, Name = "features.0.1")]
[SiLU]
[Sequential(typeof(MBConv1_32To16_K3S1), Name = "features.1.0")]
[Sequential(typeof(MBConv6_16To24_K3S2), Name = "features.2.0")]
[Residual(typeof(MBConv6_24To24_K3S1), Name = "features.2.1")]
[Sequential(typeof(MBConv6_24To40_K5S2), Name = "features.3.0")]
[Residual(typeof(MBConv6_40To40_K5S1), Name = "features.3.1")]
[Sequential(typeof(MBConv6_40To80_K3S2), Name = "features.4.0")]
[Residual(typeof(MBConv6_80To80_K3S1), Name = "features.4.1")]
[Residual(typeof(MBConv6_80To80_K3S1), Name = "features.4.2")]
[Sequential(typeof(MBConv6_80To112_K5S1), Name = "features.5.0")]
[Residual(typeof(MBConv6_112To112_K5S1), Name = "features.5.1")]
[Residual(typeof(MBConv6_112To112_K5S1), Name = "features.5.2")]
[Sequential(typeof(MBConv6_112To192_K5S2), Name = "features.6.0")]
[Residual(typeof(MBConv6_192To192_K5S1), Name = "features.6.1")]
[Residual(typeof(MBConv6_192To192_K5S1), Name = "features.6.2")]
[Residual(typeof(MBConv6_192To192_K5S1), Name = "features.6.3")]
[Sequential(typeof(MBConv6_192To320_K3S1), Name = "features.7.0")]
[Conv2d(320, 1280, 1, Bias = false, Name = "features.8.0")]                        // [1280, 7, 7]
[BatchNorm2d(1280, Name = "features.8.1")]
[SiLU]
[AdaptiveAvgPool2d(1)]
[Flatten]
[Dropout(0.2, Name = "classifier.0")]
[Linear(1280, 1000, Name = "classifier.1")]
public partial class EfficientNetB0 { }
