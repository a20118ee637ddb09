namespace CnnGen.Training.Tests;

/// <summary>The DESIGN.md model (with dropout, so the dropout streams are covered by the determinism tests).</summary>
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
public partial class DesignCnn { }

/// <summary>A small model ending in Softmax (Keras-style loss) with Dropout2d, for cheap tests.</summary>
[Model]
[Input(1, 28, 28)]
[Conv2d(1, 4, 5, Stride = 2)]
[ReLU]
[Dropout2d(0.2)]
[MaxPool2d(2)]
[Flatten]
[Linear(144, 10)]
[Softmax]
public partial class TinySoftmaxCnn { }
