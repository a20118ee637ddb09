namespace CnnGen.Bench;

// The peers' models (../shared/bench/peers/models.py), declared as CnnGen models.

/// <summary>Model A: the DESIGN.md MNIST model (55,338 parameters).</summary>
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

/// <summary>Model B: the Keras tutorial model in PyTorch form, logits out (60,554 parameters).</summary>
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
[MaxPool2d(2)]
[Flatten]
[Linear(64, 64)]
[ReLU]
[Linear(64, 10)]
public partial class ModelB { }

/// <summary>Model C: the Fashion-MNIST tutorial model (21,840 parameters).</summary>
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

/// <summary>The Keras tutorial's model (samples/KerasStyle; B2 in the peers' variants script), without the final Softmax
/// so the bench's cross-entropy step applies to logits like the other models.</summary>
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
public partial class ModelK { }
