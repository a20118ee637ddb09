using System;
using CnnGen;
using CnnGen.Data;
using CnnGen.Optim;
using CnnGen.Samples;

// The DESIGN.md model, trained on MNIST (Fashion-MNIST when MNIST cannot be found or downloaded).
//   dotnet run -c Release --project samples/Mnist                 default recipe (normalized inputs, Adam + OneCycle)
//   dotnet run -c Release --project samples/Mnist -- --plain      the PyTorch tutorial's recipe (inputs in [0,1], Adam 1e-3, 5 epochs)

const string Program = "Mnist";
bool plain = Array.IndexOf(args, "--plain") >= 0;
var defaults = new SampleOptions
{
    Epochs = plain ? 5 : 8,
    BatchSize = 64,
    LearningRate = plain ? 1e-3f : 3e-3f,
    Save = "mnist.safetensors",
};
SampleOptions? o = SampleOptions.Parse(args, Program,
    "Trains the DESIGN.md CNN (55,338 parameters) on MNIST with Adam, batch 64.\n" +
    "Default recipe: inputs normalized with (0.1307, 0.3081), OneCycle learning rate peaking at --lr.\n" +
    "--plain: the tutorial's recipe: inputs in [0, 1], constant learning rate --lr (1e-3), 5 epochs.\n" +
    "Data: --data DIR, then $CNNGEN_DATA, then ~/.cache/cnngen/mnist, then a download; if MNIST cannot be had,\n" +
    "Fashion-MNIST (e.g. Debian's /usr/share/datasets/fashion-mnist) is used instead, with a clear warning.",
    defaults, out int exit,
    new SampleOptions.Extra("--plain", "the tutorial recipe: inputs in [0,1], constant lr 1e-3, 5 epochs"),
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

bool fashion = source.Name == "fashion-mnist";
var recipe = new Recipe
{
    CreateModel = () => new MnistCnn((int)o.Seed),
    ExportOnnx = (model, path) => ((MnistCnn)model).ExportOnnx(path),
    Normalization = plain ? null : fashion ? Normalization.FashionMnist : Normalization.Mnist,
    CreateOptimizer = (model, batches) =>
    {
        var adam = new Adam(model.ParameterCount, o.LearningRate);
        LRScheduler? schedule = plain ? null : new OneCycleLR(adam, o.LearningRate, o.Epochs * batches);
        return (adam, schedule);
    },
    Description = plain
        ? $"tutorial recipe (--plain): inputs in [0, 1], Adam with constant lr {o.LearningRate}"
        : $"default recipe: inputs normalized ({(fashion ? "0.2860, 0.3530" : "0.1307, 0.3081")}), Adam with OneCycle lr (peak {o.LearningRate})",
};
return SampleRunner.Run(Program, o, source, recipe);

/// <summary>The model of DESIGN.md, exactly.</summary>
[Model]
[Input(1, 28, 28)]                          // channels, height, width (one sample)
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
public partial class MnistCnn { }
