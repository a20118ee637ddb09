using System;
using CnnGen;
using CnnGen.Data;
using CnnGen.Optim;
using CnnGen.Samples;

// The PyTorch MNIST example's network (two convolutions, Dropout2d, two linear layers) on Fashion-MNIST.
//   dotnet run -c Release --project samples/FashionMnist                  default recipe: SGD lr 0.01 momentum 0.9,
//                                                                         cosine-annealed to 0 over --epochs (10)
//   dotnet run -c Release --project samples/FashionMnist -- --epochs 40   the same recipe annealed over 40 epochs
//   dotnet run -c Release --project samples/FashionMnist -- --plain       the example's recipe: SGD lr 0.01 momentum 0.5, constant lr
//   dotnet run -c Release --project samples/FashionMnist -- --adam --raw --lr 0.001   the peers' recipe (bench/peers): Adam, constant lr, inputs in [0, 1]
// The default was chosen on a 10,000-sample hold-out of the training set (--holdout 10000, 40 epochs, seeds 1-3),
// never on the test set; see samples/README.md.

const string Program = "FashionMnist";
bool plain = Array.IndexOf(args, "--plain") >= 0;
bool adam = Array.IndexOf(args, "--adam") >= 0;
var defaults = new SampleOptions { Epochs = 10, BatchSize = 64, LearningRate = adam ? 1e-3f : 0.01f, Save = "fashion-mnist.safetensors" };
SampleOptions? o = SampleOptions.Parse(args, Program,
    "Trains the PyTorch example's CNN (Conv2d(1,10,5), MaxPool, ReLU, Conv2d(10,20,5), Dropout2d, MaxPool, ReLU,\n" +
    "Linear(320,50), ReLU, Dropout, Linear(50,10); 21,840 parameters) on Fashion-MNIST, batch 64.\n" +
    "Default recipe: inputs normalized with (0.2860, 0.3530), SGD lr 0.01 momentum 0.9, learning rate cosine-annealed\n" +
    "from --lr to 0 over the whole run (--epochs; e.g. --epochs 40 anneals over 40 epochs).\n" +
    "--plain: the PyTorch example's recipe: SGD lr 0.01 momentum 0.5, constant learning rate.\n" +
    "--adam: Adam (default lr 1e-3) with a constant learning rate; with --raw --lr 0.001 the peers' recipe\n" +
    "(../shared/bench/peers/torch_train_variants.py --dataset fashion-mnist --model C).\n" +
    "Data: --data DIR, then $CNNGEN_DATA, then Debian's /usr/share/datasets/fashion-mnist (apt install\n" +
    "dataset-fashion-mnist), then ~/.cache/cnngen/fashion-mnist, then a download.",
    defaults, out int exit,
    new SampleOptions.Extra("--plain", "the PyTorch example's recipe: SGD lr 0.01 momentum 0.5, constant lr"),
    new SampleOptions.Extra("--adam", "use Adam (default lr 1e-3, constant unless --schedule) instead of SGD"),
    new SampleOptions.Extra("--momentum", "SGD momentum (default 0.9; 0.5 with --plain)", TakesValue: true),
    new SampleOptions.Extra("--schedule", "learning rate over the run: cosine (default; constant with --plain or --adam), constant, onecycle (peak --lr)", TakesValue: true),
    new SampleOptions.Extra("--raw", "inputs in [0, 1] without normalization (as ../shared/bench/peers/torch_train*.py)"));
if (o is null)
    return exit;

float momentum = plain ? 0.5f : 0.9f;
if (o.Values.TryGetValue("--momentum", out string? m)
    && !float.TryParse(m, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out momentum))
{
    Console.Error.WriteLine($"{Program}: --momentum must be a number, not '{m}' (see --help)");
    return SampleOptions.ErrorExit;
}
string schedule = o.Values.TryGetValue("--schedule", out string? sch) ? sch : plain || adam ? "constant" : "cosine";
if (schedule is not ("constant" or "cosine" or "onecycle"))
{
    Console.Error.WriteLine($"{Program}: --schedule must be constant, cosine or onecycle, not '{schedule}' (see --help)");
    return SampleOptions.ErrorExit;
}
if (plain && adam)
{
    Console.Error.WriteLine($"{Program}: --plain (the example's SGD recipe) and --adam exclude each other (see --help)");
    return SampleOptions.ErrorExit;
}

DataSource source;
try
{
    source = SampleRunner.Locate("fashion-mnist", o.Data);
}
catch (DatasetNotFoundException ex)
{
    Console.Error.WriteLine($"{Program}: {ex.Message}");
    return SampleOptions.ErrorExit;
}

bool raw = o.Has("--raw");
string inputs = raw ? "inputs in [0, 1]" : "inputs normalized (0.2860, 0.3530)";
string lrText = schedule switch
{
    "cosine" => $"lr cosine-annealed from {o.LearningRate} to 0 over {o.Epochs} epoch{(o.Epochs == 1 ? "" : "s")}",
    "onecycle" => $"OneCycle lr peaking at {o.LearningRate} over {o.Epochs} epoch{(o.Epochs == 1 ? "" : "s")}",
    _ => $"constant lr {o.LearningRate}",
};
string name = plain ? "the example's recipe (--plain)" : adam ? "Adam (--adam)" : "default recipe";
var recipe = new Recipe
{
    CreateModel = () => new FashionCnn((int)o.Seed),
    ExportOnnx = (model, path) => ((FashionCnn)model).ExportOnnx(path),
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
        ? $"{name}: {inputs}, Adam, {lrText}"
        : $"{name}: {inputs}, SGD momentum {momentum}, {lrText}",
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
