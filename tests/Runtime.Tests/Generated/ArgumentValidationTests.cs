using System;
using Xunit;

namespace CnnGen.Runtime.Tests.Generated;

/// <summary>Generated entry points reject bad arguments with exceptions that say what was wrong, before touching anything.</summary>
public class ArgumentValidationTests
{
    public static TheoryData<string> Names => AllocationAndConcurrencyTests.Names;
    private static ICnnModel Create(string name) => AllocationAndConcurrencyTests.Create(name, 1);

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_RejectsShortSpansAndBadBatchSizes(string name)
    {
        var m = Create(name);
        var x = new float[2 * m.InputSize];
        var y = new float[2 * m.OutputSize];

        var e = Assert.Throws<ArgumentException>(() => m.Forward(x.AsSpan(0, m.InputSize - 1), y));
        Assert.Equal("input", e.ParamName);
        Assert.Contains((m.InputSize - 1).ToString(), e.Message);
        Assert.Contains(m.InputSize.ToString(), e.Message);

        e = Assert.Throws<ArgumentException>(() => m.Forward(x, y.AsSpan(0, m.OutputSize - 1)));
        Assert.Equal("output", e.ParamName);
        Assert.Contains(m.OutputSize.ToString(), e.Message);

        e = Assert.Throws<ArgumentException>(() => m.Forward(x.AsSpan(0, m.InputSize), y, 2));
        Assert.Equal("input", e.ParamName);
        Assert.Contains((2 * m.InputSize).ToString(), e.Message);

        e = Assert.Throws<ArgumentException>(() => m.Forward(x, y.AsSpan(0, m.OutputSize), 2));
        Assert.Equal("output", e.ParamName);

        foreach (int bad in new[] { 0, -1, int.MinValue })
        {
            var r = Assert.Throws<ArgumentOutOfRangeException>(() => m.Forward(x, y, bad));
            Assert.Equal("batchSize", r.ParamName);
        }
    }

    /// <summary>
    /// A batch so large that batchSize · InputSize and batchSize · OutputSize wrap around int to values the spans
    /// pass must still be rejected as an argument error (the generated checks once multiplied in int: the kernels
    /// then ran past the ends of the spans and killed the process). Run on a fresh thread (no inference buffers yet).
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_BatchSizeWhoseSizesOverflowInt_IsRejectedAsArgumentError(string name)
    {
        var m = Create(name);
        var x = new float[2 * m.InputSize];
        var y = new float[2 * m.OutputSize];
        int? batch = null;
        for (long b = int.MaxValue; b > int.MaxValue / 2 && batch is null; b--)
        {
            int bi = (int)b;
            int inNeed = unchecked(bi * m.InputSize), outNeed = unchecked(bi * m.OutputSize);
            if (inNeed <= x.Length && outNeed <= y.Length) batch = bi;
        }
        Assert.True(batch is not null, "no batch size found whose sizes wrap (test setup)");

        Exception? thrown = null;
        var t = new System.Threading.Thread(() =>
        {
            try { m.Forward(x, y, batch!.Value); }
            catch (Exception e) { thrown = e; }
        });
        t.Start();
        t.Join();
        Assert.NotNull(thrown);
        Assert.True(thrown is ArgumentException,
            $"Model{name}.Forward(batchSize: {batch}) with {x.Length} input and {y.Length} output floats threw {thrown!.GetType().Name} " +
            $"({thrown.Message}), not an ArgumentException: batchSize · InputSize = {(long)batch!.Value * m.InputSize} wraps to " +
            $"{unchecked(batch.Value * m.InputSize)} in the generated length checks");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TrainingEntryPoints_RejectBadArguments(string name)
    {
        var m = Create(name);
        const int batch = 2;
        var x = new float[batch * m.InputSize];
        var y = new float[batch * m.OutputSize];
        var dy = new float[batch * m.OutputSize];
        var grads = new float[m.ParameterCount];
        var dx = new float[batch * m.InputSize];

        // Backward before any ForwardTrain on the workspace.
        var ws = m.CreateWorkspace(batch);
        var inv = Assert.Throws<InvalidOperationException>(() => m.Backward(ws, dy, grads, dx));
        Assert.Contains("ForwardTrain", inv.Message);

        Assert.Throws<ArgumentNullException>(() => m.ForwardTrain(null!, x, y, batch));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.CreateWorkspace(0));
        foreach (int bad in new[] { 0, -3, batch + 1 })
        {
            var r = Assert.Throws<ArgumentOutOfRangeException>(() => m.ForwardTrain(ws, x, y, bad));
            Assert.Equal("batchSize", r.ParamName);
        }
        var e = Assert.Throws<ArgumentException>(() => m.ForwardTrain(ws, x.AsSpan(1), y, batch));
        Assert.Equal("input", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => m.ForwardTrain(ws, x, y.AsSpan(1), batch));
        Assert.Equal("output", e.ParamName);

        // A failed ForwardTrain leaves the workspace unusable for Backward as before.
        Assert.Throws<InvalidOperationException>(() => m.Backward(ws, dy, grads, dx));

        m.ForwardTrain(ws, x, y, batch);
        e = Assert.Throws<ArgumentException>(() => m.Backward(ws, dy.AsSpan(1), grads, dx));
        Assert.Equal("outputGradient", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => m.Backward(ws, dy, grads.AsSpan(1), dx));
        Assert.Equal("parameterGradients", e.ParamName);
        Assert.Contains(m.ParameterCount.ToString(), e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Backward(ws, dy, grads, dx.AsSpan(1)));
        Assert.Equal("inputGradient", e.ParamName);

        // Nothing was accumulated by the rejected calls.
        Assert.All(grads, g => Assert.Equal(0f, g));

        // After all that, a proper step works.
        m.Backward(ws, dy, grads, dx);
    }

    /// <summary>
    /// A null workspace is an argument error, as in ForwardTrain. Generated Backward reads <c>ws?.BatchSize ?? 0</c>
    /// first and throws InvalidOperationException "call ForwardTrain on this workspace before Backward", which
    /// sends the user looking for a missing ForwardTrain call.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Backward_NullWorkspace_ThrowsArgumentNullException(string name)
    {
        var m = Create(name);
        var e = Assert.Throws<ArgumentNullException>(() =>
            m.Backward(null!, new float[m.OutputSize], new float[m.ParameterCount], new float[m.InputSize]));
        Assert.Equal("ws", e.ParamName);
    }

    [Fact]
    public void Backward_AfterASmallerBatch_UsesThatBatchSize()
    {
        var m = Create("A");
        var ws = m.CreateWorkspace(4);
        var x = AllocationAndConcurrencyTests.Random(4 * m.InputSize, 1);
        var y = new float[4 * m.OutputSize];
        m.ForwardTrain(ws, x, y, 4);
        m.ForwardTrain(ws, x, y, 1);
        Assert.Equal(1, ws.BatchSize);
        // Gradients for one sample are accepted; the batch-4 length is not required.
        var dy = new float[m.OutputSize];
        m.Backward(ws, dy, new float[m.ParameterCount], new float[m.InputSize]);
    }
}
