namespace CnnGen.Runtime.Tests.Onnx;

// Activations the parity models lack: GELU in both forms (decomposed: opset 17 has no Gelu), Hardswish, Hardsigmoid,
// and functional ops (no keys of their own) around them.
[Model]
[Input(2, 9, 9)]
[Conv2d(2, 6, 3, Padding = 1, Name = "conv1")]
[GELU]
[Conv2d(6, 6, 3, Stride = 2, Name = "conv2")]
[GELU(Approximate = "tanh")]
[Conv2d(6, 8, 1, Name = "conv3")]
[Hardswish]
[F.MaxPool2d(2)]
[Hardsigmoid]
[F.Flatten]
[Linear(32, 6, Name = "fc")]
[F.ReLU]
public partial class OnnxActivationsModel { }

// The PyTorch tutorial's Net with functional calls (tools/golden/functional_tutorial.py).
[Model]
[Input(1, 28, 28)]
[Conv2d(1, 10, 5, Name = "conv1")]
[F.MaxPool2d(2)]
[F.ReLU]
[Conv2d(10, 20, 5, Name = "conv2")]
[Dropout2d(Name = "conv2_drop")]
[F.MaxPool2d(2)]
[F.ReLU]
[F.Flatten]
[Linear(320, 50, Name = "fc1")]
[F.ReLU]
[F.Dropout]
[Linear(50, 10, Name = "fc2")]
[F.LogSoftmax]
public partial class OnnxFunctionalModel { }

