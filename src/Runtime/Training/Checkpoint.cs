using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using CnnGen.IO;
using CnnGen.Optim;

namespace CnnGen.Training;

/// <summary>
/// A training checkpoint: the model's weights (as an embedded safetensors blob with the model's keys), the optimizer's
/// state (moment buffers, step count, learning rate), the number of completed epochs and optimizer steps, the seed,
/// the trainer's random-generator state, the scheduler's position and the per-epoch history. Written atomically
/// (temporary file, flush, rename), so an interrupted write leaves the previous checkpoint intact.
/// </summary>
public sealed class Checkpoint
{
    private const string Magic = "CNNGCKPT";
    private const int FormatVersion = 1;

    /// <summary>Epochs completed when the checkpoint was written.</summary>
    public int Epoch { get; init; }

    /// <summary>Optimizer steps taken so far (all epochs).</summary>
    public long Step { get; init; }

    /// <summary>The run's seed (shuffling order, dropout).</summary>
    public ulong Seed { get; init; }

    /// <summary>The mini-batch size the run used.</summary>
    public int BatchSize { get; init; }

    /// <summary>The shard count the run used (see <see cref="TrainerOptions.Shards"/>).</summary>
    public int Shards { get; init; }

    /// <summary>The state of the trainer's random generator (<see cref="Rng.StateWords"/> words), from which each step's dropout seeds are drawn.</summary>
    public ulong[] RngState { get; init; } = new ulong[Rng.StateWords];

    /// <summary>The learning-rate scheduler's <see cref="LRScheduler.LastStep"/>, or null when the run had no scheduler.</summary>
    public int? SchedulerStep { get; init; }

    /// <summary>The results of the completed epochs (without confusion matrices).</summary>
    public IReadOnlyList<EpochResult> History { get; init; } = Array.Empty<EpochResult>();

    /// <summary>Writes a checkpoint of <paramref name="model"/> and <paramref name="optimizer"/> with <paramref name="info"/>'s counters, atomically.</summary>
    /// <param name="path">The checkpoint file; its directory is created if needed. The previous file survives any failure.</param>
    /// <param name="model">The model whose weights are saved.</param>
    /// <param name="optimizer">The optimizer whose state is saved.</param>
    /// <param name="info">The counters, RNG state and history.</param>
    public static void Save(string path, ICnnModel model, Optimizer optimizer, Checkpoint info) => Save(path, model, optimizer, info, null);

    internal static void Save(string path, ICnnModel model, Optimizer optimizer, Checkpoint info, Func<Stream, Stream>? wrapForTests)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(info);
        if (info.RngState.Length != Rng.StateWords)
            throw new ArgumentException($"The RNG state needs {Rng.StateWords} words.", nameof(info));
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);

        // Serialize the weights first (a complete safetensors blob), so the file is written in one pass.
        var weights = new MemoryStream();
        var (slots, values) = State(model);
        SafeTensors.Write(weights, slots, values);

        using AtomicFileWriter writer = AtomicFile.Create(path);
        Stream target = wrapForTests is null ? writer.Stream : wrapForTests(writer.Stream);
        using (var w = new BinaryWriter(target, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(FormatVersion);
            w.Write(info.Epoch);
            w.Write(info.Step);
            w.Write(info.Seed);
            w.Write(info.BatchSize);
            w.Write(info.Shards);
            foreach (ulong word in info.RngState)
                w.Write(word);
            w.Write(info.SchedulerStep ?? -1);
            w.Write(info.History.Count);
            foreach (EpochResult e in info.History)
            {
                w.Write(e.Epoch);
                w.Write(e.TrainLoss);
                w.Write(e.TestLoss);
                w.Write(e.TestAccuracy);
                w.Write(e.LearningRate);
                w.Write(e.Seconds);
                w.Write(e.EvaluationSeconds);
            }
            w.Write(model.ParameterCount);
            w.Write(weights.Length);
            w.Flush();
            weights.Position = 0;
            weights.CopyTo(target);
        }
        optimizer.SaveState(target);
        target.Flush();
        writer.Commit();
    }

    /// <summary>
    /// Reads a checkpoint and restores it into <paramref name="model"/> (weights) and <paramref name="optimizer"/> (state).
    /// All or nothing: on any error (wrong model, wrong optimizer kind, damaged file) both stay as they were.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The model to restore (the same architecture that was saved).</param>
    /// <param name="optimizer">The optimizer to restore (same kind and options).</param>
    /// <returns>The checkpoint's counters, RNG state and history.</returns>
    /// <exception cref="InvalidDataException">The file is not a checkpoint for this model and optimizer.</exception>
    public static Checkpoint Load(string path, ICnnModel model, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        byte[] bytes = File.ReadAllBytes(path);
        string name = Path.GetFileName(path);
        var stream = new MemoryStream(bytes, writable: false);
        Checkpoint info = ReadHeader(stream, name, out int parameterCount, out long weightsLength);
        if (parameterCount != model.ParameterCount)
            throw new InvalidDataException($"{name}: the checkpoint holds {parameterCount} parameters, but the model has {model.ParameterCount}.");
        if (weightsLength < 0 || weightsLength > stream.Length - stream.Position)
            throw new InvalidDataException($"{name}: truncated checkpoint (the weights need {weightsLength} bytes, {stream.Length - stream.Position} remain).");

        var (slots, weights) = State(model);
        weights = new float[weights.Length];
        SafeTensors.LoadInto(new MemoryStream(bytes, (int)stream.Position, (int)weightsLength, writable: false), name, slots, weights);
        stream.Position += weightsLength;
        optimizer.LoadState(stream); // unchanged on error
        if (stream.Position != stream.Length)
            throw new InvalidDataException($"{name}: {stream.Length - stream.Position} unexpected bytes after the optimizer state.");
        weights.AsSpan(0, model.ParameterCount).CopyTo(model.Parameters);
        weights.AsSpan(model.ParameterCount).CopyTo(model.Buffers);
        return info;
    }

    /// <summary>
    /// The tensors a checkpoint keeps: the parameters and, for models with batch norm, the buffers after them (keys as
    /// PyTorch's state_dict). Without buffers this is exactly the parameter array, so such checkpoints are unchanged.
    /// </summary>
    private static (TensorSlot[] Slots, float[] Values) State(ICnnModel model)
    {
        TensorSlot[] buffers = model.BufferSlots;
        if (buffers.Length == 0)
            return (model.ParameterSlots, model.Parameters);
        var slots = new TensorSlot[model.ParameterSlots.Length + buffers.Length];
        model.ParameterSlots.CopyTo(slots, 0);
        for (int i = 0; i < buffers.Length; i++)
            slots[model.ParameterSlots.Length + i] = buffers[i] with { Offset = model.ParameterCount + buffers[i].Offset };
        var values = new float[model.ParameterCount + model.Buffers.Length];
        model.Parameters.CopyTo(values, 0);
        model.Buffers.CopyTo(values, model.ParameterCount);
        return (slots, values);
    }

    /// <summary>Reads only a checkpoint's counters and history (for inspection), without restoring anything.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>The counters, RNG state and history.</returns>
    public static Checkpoint ReadInfo(string path)
    {
        using FileStream s = File.OpenRead(path);
        return ReadHeader(s, Path.GetFileName(path), out _, out _);
    }

    private static Checkpoint ReadHeader(Stream stream, string name, out int parameterCount, out long weightsLength)
    {
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic)
                throw new InvalidDataException($"{name} is not a CnnGen checkpoint (bad magic).");
            int version = r.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"{name}: unsupported checkpoint format version {version} (expected {FormatVersion}).");
            int epoch = r.ReadInt32();
            long step = r.ReadInt64();
            ulong seed = r.ReadUInt64();
            int batchSize = r.ReadInt32();
            int shards = r.ReadInt32();
            var rng = new ulong[Rng.StateWords];
            for (int i = 0; i < rng.Length; i++)
                rng[i] = r.ReadUInt64();
            int schedulerStep = r.ReadInt32();
            int count = r.ReadInt32();
            if (epoch < 0 || step < 0 || count < 0 || count > 1_000_000)
                throw new InvalidDataException($"{name}: corrupt checkpoint header.");
            var history = new List<EpochResult>(count);
            for (int i = 0; i < count; i++)
                history.Add(new EpochResult(r.ReadInt32(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble()));
            parameterCount = r.ReadInt32();
            weightsLength = r.ReadInt64();
            return new Checkpoint
            {
                Epoch = epoch,
                Step = step,
                Seed = seed,
                BatchSize = batchSize,
                Shards = shards,
                RngState = rng,
                SchedulerStep = schedulerStep < 0 ? null : schedulerStep,
                History = history,
            };
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: truncated checkpoint.", e);
        }
    }
}
