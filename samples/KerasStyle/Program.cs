using System;
using CnnGen;
using CnnGen.Data;
using CnnGen.Optim;
using CnnGen.Samples;
using CnnGen.Training;

// The TensorFlow/Keras CNN tutorial's model (Conv2D 32/64/64 with ReLU, MaxPooling2D, Dense 64, Dense 10 softmax;
// 93,322 parameters), trained with Keras' defaults: Glorot-uniform kernels and zero biases, keras.optimizers.Adam
// (lr 1e-3, beta 0.9/0.999, epsilon 1e-7 added to the uncorrected sqrt(v): KerasAdam, not PyTorch's Adam), sparse
// categorical cross-entropy on the softmax output, batch 32, shuffled every epoch, inputs scaled to [0, 1].
// On MNIST (Fashion-MNIST if MNIST is missing).
//   dotnet run -c Release --project samples/KerasStyle

const string Program = "KerasStyle";
var defaults = new SampleOptions { Epochs = 5, BatchSize = 32, LearningRate = 1e-3f, Save = "keras-style.safetensors" };
SampleOptions? o = SampleOptions.Parse(args, Program,
    "Trains the Keras tutorial CNN (93,322 parameters, softmax output) Keras-style: Glorot-uniform init, Keras' Adam\n" +
    "(lr 1e-3, epsilon 1e-7), sparse categorical cross-entropy, batch 32, inputs in [0, 1]. Data as samples/Mnist\n" +
    "(MNIST, else Fashion-MNIST).",
    defaults, out int exit,
    new SampleOptions.Extra("--dataset", "mnist (default, with the Fashion-MNIST fallback) or fashion-mnist", TakesValue: true));
if (o is null)
    return exit;

DataSource source;
try
{
    source = o.Values.TryGetValue("--dataset", out string? name) && name != "mnist"
        ? SampleRunner.Locate(name, o.Data)
        : SampleRunner.LocateMnistOrFallback(o.Data);
}
catch (Exception ex) when (ex is DatasetNotFoundException or ArgumentException)
{
    Console.Error.WriteLine($"{Program}: {ex.Message}");
    return SampleOptions.ErrorExit;
}

Console.WriteLine(KerasCnn.KerasSummary());
var recipe = new Recipe
{
    CreateModel = () =>
    {
        var model = new KerasCnn();
        model.ResetParameters((int)o.Seed, Initializer.GlorotUniform);
        return model;
    },
    ExportOnnx = (model, path) => ((KerasCnn)model).ExportOnnx(path),
    Loss = LossFunction.SparseCategoricalCrossEntropy,
    // keras.optimizers.Adam's defaults (beta 0.9/0.999, epsilon 1e-7 on the uncorrected sqrt(v)).
    CreateOptimizer = (model, batches) => (new KerasAdam(model.ParameterCount, o.LearningRate), null),
    Description = $"Keras style: Glorot-uniform init, Keras' Adam lr {o.LearningRate} eps 1e-7, sparse categorical cross-entropy, inputs in [0, 1]",
};
return SampleRunner.Run(Program, o, source, recipe);

/// <summary>The Keras tutorial CNN, in PyTorch form (Conv2d + ReLU pairs; Softmax output for the Keras loss).</summary>
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
public partial class KerasCnn { }
