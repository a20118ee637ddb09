using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>
/// Steady-state allocation of generated models (DESIGN: Forward allocates nothing after a thread's first call; a
/// training step allocates nothing once its workspace exists) and re-entrant inference from several threads.
/// </summary>
public class AllocationAndConcurrencyTests
{
    public static TheoryData<string> Names => new() { "A", "B", "C", "D", "E" };

    internal static ICnnModel Create(string name, int seed = 0) => name switch
    {
        "A" => new ModelA(seed),
        "B" => new ModelB(seed),
        "C" => new ModelC(seed),
        "D" => new ModelD(seed),
        "E" => new ModelE(seed),
        _ => throw new ArgumentException(name),
    };

    internal static float[] Random(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.Uniform(-1f, 1f);
        return x;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_AllocatesNothing_InSteadyState(string name)
    {
        var model = Create(name);
        var x1 = Random(model.InputSize, 1);
        var y1 = new float[model.OutputSize];
        var x8 = Random(8 * model.InputSize, 2);
        var y8 = new float[8 * model.OutputSize];
        // Warm-up: the thread's buffers grow to batch 8, the JIT compiles everything.
        for (int i = 0; i < 3; i++)
        {
            model.Forward(x1, y1);
            model.Forward(x8, y8, 8);
        }

        var rounds = SteadyState(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.Forward(x1, y1);
            long batch1 = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.Forward(x8, y8, 8);
            long batch8 = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) model.Forward(x1, y1, 1);
            long batch1Again = GC.GetAllocatedBytesForCurrentThread() - before;
            return (batch1 + batch8 + batch1Again,
                $"{batch1} bytes (20 × batch 1), {batch8} bytes (20 × batch 8), {batch1Again} bytes (20 × batch 1 after 8)");
        });
        Assert.True(rounds.Zero, $"Model{name}.Forward allocated in every round: {rounds.Report}");
    }

    /// <summary>
    /// Runs a measurement until a round allocates nothing, at most 5 rounds 300 ms apart. The runtime's tiered JIT
    /// recompiles hot methods after a delay and can charge a few KB to the calling thread while it does; that happens
    /// once, so a model that allocates per call fails every round while a JIT tier-up shows up in one at most.
    /// </summary>
    private static (bool Zero, string Report) SteadyState(Func<(long Bytes, string Report)> measure)
    {
        var reports = new List<string>();
        for (int round = 0; round < 5; round++)
        {
            var (bytes, report) = measure();
            reports.Add($"round {round + 1}: {report}");
            if (bytes == 0) return (true, string.Join("; ", reports));
            Thread.Sleep(300);
        }
        return (false, string.Join("; ", reports));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TrainingStep_AllocatesNothing_InSteadyState(string name)
    {
        var model = Create(name);
        const int batch = 8;
        var ws = model.CreateWorkspace(batch, seed: 1);
        var x = Random(batch * model.InputSize, 3);
        var y = new float[batch * model.OutputSize];
        var dy = Random(batch * model.OutputSize, 4);
        var grads = new float[model.ParameterCount];
        var dx = new float[batch * model.InputSize];
        for (int i = 0; i < 3; i++)
        {
            model.ForwardTrain(ws, x, y, batch);
            model.Backward(ws, dy, grads, dx);
            model.ForwardTrain(ws, x, y, 3);
            model.Backward(ws, dy, grads, Span<float>.Empty);
        }

        var rounds = SteadyState(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                model.ForwardTrain(ws, x, y, batch);
                model.Backward(ws, dy, grads, dx);
            }
            long full = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                model.ForwardTrain(ws, x, y, 3);
                model.Backward(ws, dy, grads, Span<float>.Empty);
            }
            long partial = GC.GetAllocatedBytesForCurrentThread() - before;
            return (full + partial, $"{full} bytes (10 × batch 8 with input gradient), {partial} bytes (10 × batch 3 without)");
        });
        Assert.True(rounds.Zero, $"Model{name} training steps allocated in every round: {rounds.Report}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_FromFourThreads_OnOneInstance_MatchesSequential(string name)
    {
        var model = Create(name, seed: 5);
        const int samples = 12;
        var x = Random(samples * model.InputSize, 6);

        // Sequential answers: per sample, and for batches of 3.
        var single = new float[samples * model.OutputSize];
        for (int s = 0; s < samples; s++)
            model.Forward(x.AsSpan(s * model.InputSize, model.InputSize), single.AsSpan(s * model.OutputSize, model.OutputSize));
        var batched = new float[samples * model.OutputSize];
        for (int s = 0; s < samples; s += 3)
            model.Forward(x.AsSpan(s * model.InputSize, 3 * model.InputSize), batched.AsSpan(s * model.OutputSize, 3 * model.OutputSize), 3);

        const int threads = 4, rounds = 15;
        var errors = new string?[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                var y = new float[3 * model.OutputSize];
                start.SignalAndWait();
                for (int r = 0; r < rounds; r++)
                {
                    for (int k = 0; k < samples; k++)
                    {
                        // Each thread walks the samples in a different order and alternates batch sizes.
                        int s = (k * (2 * t + 1) + r) % samples;
                        if ((r + t) % 2 == 0)
                        {
                            model.Forward(x.AsSpan(s * model.InputSize, model.InputSize), y.AsSpan(0, model.OutputSize));
                            if (!y.AsSpan(0, model.OutputSize).SequenceEqual(single.AsSpan(s * model.OutputSize, model.OutputSize)))
                                throw new Exception($"thread {t}, round {r}: sample {s} differs from the sequential result");
                        }
                        else if (s % 3 == 0)
                        {
                            model.Forward(x.AsSpan(s * model.InputSize, 3 * model.InputSize), y, 3);
                            if (!y.AsSpan().SequenceEqual(batched.AsSpan(s * model.OutputSize, 3 * model.OutputSize)))
                                throw new Exception($"thread {t}, round {r}: batch at {s} differs from the sequential result");
                        }
                    }
                }
            }
            catch (Exception e) { errors[t] = e.Message; }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.True(errors.All(e => e is null), string.Join("\n", errors.Where(e => e is not null)));
    }

    /// <summary>
    /// Data-parallel training shares one model between threads, each with its own workspace and gradient buffer:
    /// ForwardTrain/Backward on 4 threads at once give exactly the sequential outputs and gradients.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void TrainingSteps_FromFourThreads_WithOwnWorkspaces_MatchSequential(string name)
    {
        var model = Create(name, seed: 8);
        const int threads = 4, batch = 3, rounds = 4;
        var inputs = Enumerable.Range(0, threads).Select(t => Random(batch * model.InputSize, 20 + t)).ToArray();
        var dys = Enumerable.Range(0, threads).Select(t => Random(batch * model.OutputSize, 30 + t)).ToArray();

        (float[] Y, float[] G, float[] Dx) Step(int t, TrainingWorkspace ws)
        {
            var y = new float[batch * model.OutputSize];
            var g = new float[model.ParameterCount];
            var dx = new float[batch * model.InputSize];
            model.ForwardTrain(ws, inputs[t], y, batch);
            model.Backward(ws, dys[t], g, dx);
            return (y, g, dx);
        }

        var expected = Enumerable.Range(0, threads).Select(t =>
        {
            var ws = model.CreateWorkspace(batch, seed: (ulong)t);
            ws.DropoutEnabled = false;
            return Step(t, ws);
        }).ToArray();

        var errors = new string?[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                var ws = model.CreateWorkspace(batch, seed: (ulong)t);
                ws.DropoutEnabled = false;
                start.SignalAndWait();
                for (int r = 0; r < rounds; r++)
                {
                    var (y, g, dx) = Step(t, ws);
                    if (!y.AsSpan().SequenceEqual(expected[t].Y)) throw new Exception($"thread {t}, round {r}: outputs differ");
                    if (!g.AsSpan().SequenceEqual(expected[t].G)) throw new Exception($"thread {t}, round {r}: parameter gradients differ");
                    if (!dx.AsSpan().SequenceEqual(expected[t].Dx)) throw new Exception($"thread {t}, round {r}: input gradients differ");
                }
            }
            catch (Exception e) { errors[t] = e.Message; }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.True(errors.All(e => e is null), string.Join("\n", errors.Where(e => e is not null)));
    }
}
