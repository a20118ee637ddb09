using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using CnnGen.Data;
using CnnGen.Optim;
using CnnGen.Training;

namespace CnnGen.Samples;

/// <summary>A located data set: its directory, name and class names.</summary>
public sealed record DataSource(string Directory, string Name, IReadOnlyList<string> ClassNames);

/// <summary>What a sample decides: its model, optimizer, schedule and loss.</summary>
public sealed class Recipe
{
    public required Func<ICnnModel> CreateModel { get; init; }
    /// <summary>(model, batches per epoch) → optimizer and optional scheduler.</summary>
    public required Func<ICnnModel, int, (Optimizer Optimizer, LRScheduler? Scheduler)> CreateOptimizer { get; init; }
    public SchedulerInterval SchedulerInterval { get; init; } = SchedulerInterval.Batch;
    public LossFunction Loss { get; init; } = LossFunction.CrossEntropy;
    public Normalization? Normalization { get; init; }
    /// <summary>One line describing the recipe, printed at the start.</summary>
    public string Description { get; init; } = "";
    /// <summary>
    /// (model, path) → the generated model's ExportOnnx; when set, the trained model is also written as ONNX next to
    /// the weights (the --save path with .onnx), for ONNX Runtime or Triton.
    /// </summary>
    public Action<ICnnModel, string>? ExportOnnx { get; init; }
}

/// <summary>The shared flow of the samples: data, training with checkpoints and plots, the final report.</summary>
public static class SampleRunner
{
    /// <summary>Finds a data set by name (--data, $CNNGEN_DATA, Debian, cache, download).</summary>
    public static DataSource Locate(string name, string? dataDir)
    {
        string dir = DataLocator.Locate(name, new DataLocatorOptions { ExplicitDirectory = dataDir, Log = Console.Error });
        return new DataSource(dir, name, MnistDataset.ClassNamesFor(name));
    }

    /// <summary>
    /// Finds MNIST; when it cannot be found or downloaded, falls back to Fashion-MNIST (e.g. Debian's
    /// /usr/share/datasets/fashion-mnist) and says so on both streams.
    /// </summary>
    public static DataSource LocateMnistOrFallback(string? dataDir)
    {
        try
        {
            return Locate("mnist", dataDir);
        }
        catch (DatasetNotFoundException notFound)
        {
            DataSource fashion;
            try
            {
                fashion = Locate("fashion-mnist", dataDir);
            }
            catch (DatasetNotFoundException)
            {
                throw notFound; // report what MNIST needs
            }
            string warning =
                "WARNING: MNIST was not found and could not be downloaded; FALLING BACK TO FASHION-MNIST from " + fashion.Directory + ".\n" +
                "WARNING: the accuracies below are Fashion-MNIST's (clothing, ~90% is good), not MNIST's (digits, ~99%).\n" +
                "WARNING: to train on MNIST, put its four IDX files in a directory and pass --data DIR (or set $CNNGEN_DATA).\n" +
                "Where MNIST was looked for:\n  " + string.Join("\n  ", notFound.Searched);
            Console.Error.WriteLine(warning);
            Console.WriteLine("WARNING: MNIST not found (see above); FALLING BACK TO FASHION-MNIST from " + fashion.Directory);
            return fashion;
        }
    }

    /// <summary>
    /// Runs a sample; returns the process exit code. A bad input (a damaged data, checkpoint or weights file, a path that cannot be
    /// written) is one line on stderr naming the file and the problem, and exit code <see cref="SampleOptions.ErrorExit"/>.
    /// </summary>
    public static int Run(string program, SampleOptions o, DataSource source, Recipe recipe)
    {
        try
        {
            return RunCore(program, o, source, recipe);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"{program}: error: {OneLine(ex.Message)}");
            return SampleOptions.ErrorExit;
        }
    }

    /// <summary>A message as one line (multi-problem messages, such as a weights file's, joined with "; ").</summary>
    public static string OneLine(string message)
    {
        var parts = new List<string>();
        foreach (string line in message.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            string p = line.Trim();
            if (p.Length > 0) parts.Add(p.StartsWith("- ", StringComparison.Ordinal) ? p[2..] : p);
        }
        return string.Join("; ", parts).Replace(":;", ":", StringComparison.Ordinal);
    }

    private static int RunCore(string program, SampleOptions o, DataSource source, Recipe recipe)
    {
        Normalization? norm = recipe.Normalization;
        Console.WriteLine($"{program}: {source.Name} from {source.Directory}; {recipe.Description}");
        var train = LabeledData.From(MnistDataset.LoadTrain(source.Directory, norm, source.ClassNames));
        var test = LabeledData.From(MnistDataset.LoadTest(source.Directory, norm, source.ClassNames));
        string evalName = "test";
        string evalLabel = "test";
        if (o.Holdout > 0)
        {
            (train, test) = train.Split(o.Holdout, o.Seed);
            evalLabel = "validation";
            evalName = $"held-out validation ({test.Count} training samples; the test set is not used)";
        }
        if (o.Limit > 0)
            train = train.Take(o.Limit);

        ICnnModel model = recipe.CreateModel();
        if (o.Evaluate is not null)
            return EvaluateSaved(program, model, o.Evaluate, test, evalName, recipe);
        int batchesPerEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        (Optimizer optimizer, LRScheduler? scheduler) = recipe.CreateOptimizer(model, batchesPerEpoch);
        var options = new TrainerOptions
        {
            Epochs = o.Epochs,
            BatchSize = o.BatchSize,
            Threads = o.Threads,
            Shards = o.Shards,
            Seed = o.Seed,
            Loss = recipe.Loss,
            SchedulerInterval = recipe.SchedulerInterval,
            LogInterval = o.LogInterval,
            CheckpointPath = o.CheckpointPath,
        };
        var trainer = new Trainer(model, optimizer, options, scheduler);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model.ParameterCount:N0} parameters; {train.Count} training samples, evaluating on {evalName} ({test.Count}); epochs {o.Epochs}, batch {o.BatchSize}, lr {o.LearningRate}, {trainer.Threads} thread(s), {o.Shards} shards, seed {o.Seed}"));

        if (o.Resume && File.Exists(o.CheckpointPath))
        {
            Checkpoint ck = trainer.LoadCheckpoint(o.CheckpointPath);
            Console.WriteLine($"Resumed from {o.CheckpointPath} after epoch {ck.Epoch} (step {ck.Step}).");
        }

        trainer.EpochCompleted = result =>
        {
            var written = new List<string>();
            if (!o.NoPlots)
            {
                try
                {
                    written.AddRange(Plots.WriteCurves(trainer.History.Epochs, o.PlotPrefix, source.Name, evalLabel));
                    if (result.Confusion is not null)
                        written.Add(Plots.WriteConfusion(result.Confusion, o.PlotPrefix + ".confusion.png", $"{source.Name}, epoch {result.Epoch}"));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TypeInitializationException or DllNotFoundException)
                {
                    Console.Error.WriteLine($"Could not write the plots: {ex.Message}");
                }
            }
            if (!result.IsLast)
                return;
            // The final report goes before the last [N] Test Loss line, which the trainer prints after this.
            Console.WriteLine();
            Console.WriteLine($"Confusion matrix ({evalName}, rows: true class, columns: predicted):");
            Console.Write(result.Confusion!.ToTable());
            Console.WriteLine();
            Console.Write(result.Confusion.Report(digits: 4));
            Console.WriteLine();
            double perEpoch = 0;
            int timed = 0;
            foreach (EpochResult e in trainer.History.Epochs)
                if (e.Seconds > 0) { perEpoch += e.Seconds; timed++; }
            if (timed > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Training time: {perEpoch / timed:F1} s per epoch ({train.Count * timed / perEpoch:F0} samples/s, {trainer.Threads} thread(s))"));
            model.SaveWeights(o.Save);
            Console.WriteLine($"Saved weights to {o.Save}; checkpoint {o.CheckpointPath}");
            ExportOnnx(model, o.Save, recipe);
            if (written.Count > 0)
                Console.WriteLine("Plots: " + string.Join(", ", written));
        };

        try
        {
            trainer.Fit(train, test);
        }
        catch (TrainingDivergedException ex)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"{program}: error: {OneLine(ex.Message)}");
            return SampleOptions.ErrorExit;
        }
        return 0;
    }

    /// <summary>--evaluate: the saved weights (strictly loaded: a wrong key, shape or a damaged file is an error naming it) on the evaluation set.</summary>
    private static int EvaluateSaved(string program, ICnnModel model, string weights, LabeledData test, string evalName, Recipe recipe)
    {
        try
        {
            model.LoadWeights(weights);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or FormatException)
        {
            Console.Error.WriteLine($"{program}: error: {OneLine(ex.Message)}");
            return SampleOptions.ErrorExit;
        }
        EvaluationResult r = Trainer.Evaluate(model, test, recipe.Loss, Environment.ProcessorCount);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{weights} on {evalName}: accuracy {r.Accuracy * 100:F2}% ({(int)Math.Round(r.Accuracy * test.Count)}/{test.Count}), average loss {r.Loss:F4}"));
        ExportOnnx(model, weights, recipe);
        return 0;
    }

    /// <summary>The trained model as ONNX next to its weights (same name, .onnx), when the recipe can export it.</summary>
    private static void ExportOnnx(ICnnModel model, string weightsPath, Recipe recipe)
    {
        if (recipe.ExportOnnx is null)
            return;
        Normalization? norm = recipe.Normalization;
        string onnx = Path.ChangeExtension(weightsPath, ".onnx");
        try
        {
            recipe.ExportOnnx(model, onnx);
            Console.WriteLine(norm is { } n
                ? string.Create(CultureInfo.InvariantCulture, $"Exported ONNX (opset 17) to {onnx}; its input is normalized as in training: (pixel / 255 - {n.Mean}) / {n.Std}")
                : $"Exported ONNX (opset 17) to {onnx}; its input is pixel / 255");
        }
        catch (Exception ex) when (ex is NotSupportedException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Could not export ONNX to {onnx}: {ex.Message}");
        }
    }
}
