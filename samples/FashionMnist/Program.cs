using System;
using CnnGen;
using CnnGen.Data;
using CnnGen.Optim;
using CnnGen.Samples;

// The PyTorch MNIST example's network (two convolutions, Dropout2d, two linear layers) on Fashion-MNIST,
// trained as that example trains it: SGD with momentum 0.5, lr 0.01, batch 64.
//   dotnet run -c Release --project samples/FashionMnist

const string Program = "FashionMnist";
var defaults = new SampleOptions { Epochs = 10, BatchSize = 64, LearningRate = 0.01f, Save = "fashion-mnist.safetensors" };
SampleOptions? o = SampleOptions.Parse(args, Program,
    "Trains the PyTorch example's CNN (Conv2d(1,10,5), MaxPool, ReLU, Conv2d(10,20,5), Dropout2d, MaxPool, ReLU,\n" +
    "Linear(320,50), ReLU, Dropout, Linear(50,10); 21,840 parameters) on Fashion-MNIST with SGD (momentum 0.5).\n" +
    "Data: --data DIR, then $CNNGEN_DATA, then Debian's /usr/share/datasets/fashion-mnist (apt install\n" +
    "dataset-fashion-mnist), then ~/.cache/cnngen/fashion-mnist, then a download.",
    defaults, out int exit,
    new SampleOptions.Extra("--momentum", "SGD momentum (default 0.5)", TakesValue: true),
    new SampleOptions.Extra("--adam", "use Adam (with --lr, e.g. 1e-3) instead of SGD"),
    new SampleOptions.Extra("--schedule", "learning-rate schedule over the whole run: constant, cosine or onecycle", TakesValue: true),
    new SampleOptions.Extra("--raw", "inputs in [0, 1] without normalization (as ../shared/bench/peers/torch_train*.py)"));
if (o is null)
    return exit;

DataSource source;
try
{
    source = SampleRunner.Locate("fashion-mnist", o.Data);
}
catch (DatasetNotFoundException ex)
{
    Console.Error.WriteLine($"{Program}: {ex.Message}");
    return 1;
}

float momentum = o.Values.TryGetValue("--momentum", out string? m) ? float.Parse(m, System.Globalization.CultureInfo.InvariantCulture) : 0.5f;
bool adam = o.Has("--adam");
bool raw = o.Has("--raw");
string schedule = o.Values.TryGetValue("--schedule", out string? sch) ? sch : "constant";
if (schedule is not ("constant" or "cosine" or "onecycle"))
{
    Console.Error.WriteLine($"{Program}: --schedule must be constant, cosine or onecycle, not '{schedule}' (see --help)");
    return 64;
}
string inputs = raw ? "inputs in [0, 1]" : "inputs normalized (0.2860, 0.3530)";
string lrText = schedule switch
{
    "cosine" => $"cosine-annealed lr from {o.LearningRate} to 0 over {o.Epochs} epochs",
    "onecycle" => $"OneCycle lr peaking at {o.LearningRate} over {o.Epochs} epochs",
    _ => $"constant lr {o.LearningRate}",
};
var recipe = new Recipe
{
    CreateModel = () => new FashionCnn((int)o.Seed),
    Normalization = raw ? null : Normalization.FashionMnist,
    CreateOptimizer = (model, batches) =>
    {
        Optimizer optimizer = adam
            ? new Adam(model.ParameterCount, o.LearningRate)
            : new Sgd(model.ParameterCount, o.LearningRate, momentum);
        LRScheduler? scheduler = schedule switch
        {
            "cosine" => new CosineAnnealingLR(optimizer, o.Epochs * batches),
            "onecycle" => new OneCycleLR(optimizer, o.LearningRate, o.Epochs * batches),
            _ => null,
        };
        return (optimizer, scheduler);
    },
    Description = adam
        ? $"{inputs}, Adam, {lrText}"
        : $"{inputs}, SGD momentum {momentum}, {lrText}",
};
return SampleRunner.Run(Program, o, source, recipe);

/// <summary>The PyTorch MNIST example's network (with <c>F.max_pool2d</c> before <c>F.relu</c>, as there).</summary>
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
public partial class FashionCnn { }
