using CnnGen;

namespace CnnGen.Samples.ResNet;

// torchvision.models.resnet18(): 3×224×224 in, 1000 classes out, 11,689,512 parameters. Keys as torchvision's
// state_dict names them (conv1.weight, layer1.0.bn1.running_mean, layer2.0.downsample.0.weight, fc.bias), so a
// torchvision checkpoint converted to safetensors loads with LoadWeights.


[Block(ModuleName = "BasicBlock")]
[Conv2d(64, 64, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(64, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(64, 64, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(64, Name = "bn2")]
public partial class BasicBlock64 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(64, 128, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(128, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(128, 128, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(128, Name = "bn2")]
public partial class BasicBlock128Down { }

[Block]
[Conv2d(64, 128, 1, Stride = 2, Bias = false)]
[BatchNorm2d(128)]
public partial class Downsample128 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(128, 128, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(128, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(128, 128, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(128, Name = "bn2")]
public partial class BasicBlock128 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(128, 256, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(256, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(256, 256, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(256, Name = "bn2")]
public partial class BasicBlock256Down { }

[Block]
[Conv2d(128, 256, 1, Stride = 2, Bias = false)]
[BatchNorm2d(256)]
public partial class Downsample256 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(256, 256, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(256, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(256, 256, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(256, Name = "bn2")]
public partial class BasicBlock256 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(256, 512, 3, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(512, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(512, 512, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(512, Name = "bn2")]
public partial class BasicBlock512Down { }

[Block]
[Conv2d(256, 512, 1, Stride = 2, Bias = false)]
[BatchNorm2d(512)]
public partial class Downsample512 { }

[Block(ModuleName = "BasicBlock")]
[Conv2d(512, 512, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2d(512, Name = "bn1")]
[ReLU(Name = "relu")]
[Conv2d(512, 512, 3, Padding = 1, Bias = false, Name = "conv2")]
[BatchNorm2d(512, Name = "bn2")]
public partial class BasicBlock512 { }

/// <summary>torchvision's layer1: two identity BasicBlocks.</summary>
[Block]
[Residual(typeof(BasicBlock64), ReLU = true)]
[Residual(typeof(BasicBlock64), ReLU = true)]
public partial class ResNet18Layer1 { }

/// <summary>torchvision's layer2: a downsampling BasicBlock with a 1×1 projection, then an identity one.</summary>
[Block]
[Residual(typeof(BasicBlock128Down), Shortcut = typeof(Downsample128), ReLU = true)]
[Residual(typeof(BasicBlock128), ReLU = true)]
public partial class ResNet18Layer2 { }

/// <summary>torchvision's layer3: a downsampling BasicBlock with a 1×1 projection, then an identity one.</summary>
[Block]
[Residual(typeof(BasicBlock256Down), Shortcut = typeof(Downsample256), ReLU = true)]
[Residual(typeof(BasicBlock256), ReLU = true)]
public partial class ResNet18Layer3 { }

/// <summary>torchvision's layer4: a downsampling BasicBlock with a 1×1 projection, then an identity one.</summary>
[Block]
[Residual(typeof(BasicBlock512Down), Shortcut = typeof(Downsample512), ReLU = true)]
[Residual(typeof(BasicBlock512), ReLU = true)]
public partial class ResNet18Layer4 { }

[Model]
[Input(3, 224, 224)]
[Conv2d(3, 64, 7, Stride = 2, Padding = 3, Bias = false, Name = "conv1")]
[BatchNorm2d(64, Name = "bn1")]
[ReLU(Name = "relu")]
[MaxPool2d(3, Stride = 2, Padding = 1, Name = "maxpool")]
[Sequential(typeof(ResNet18Layer1), Name = "layer1")]
[Sequential(typeof(ResNet18Layer2), Name = "layer2")]
[Sequential(typeof(ResNet18Layer3), Name = "layer3")]
[Sequential(typeof(ResNet18Layer4), Name = "layer4")]
[AdaptiveAvgPool2d(1, Name = "avgpool")]
[Flatten]
[Linear(512, 1000, Name = "fc")]
public partial class ResNet18 { }
