using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Runtime.Tests;

public class BatchLoaderTests
{
    // 10 samples of 3 floats; sample i holds (i, i + 0.25, i + 0.5) and has label 100 + i, so pairing is checkable.
    private static (float[] Inputs, int[] Labels) Toy(int n = 10)
    {
        var x = new float[n * 3];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            x[3 * i] = i; x[3 * i + 1] = i + 0.25f; x[3 * i + 2] = i + 0.5f;
            y[i] = 100 + i;
        }
        return (x, y);
    }

    private static List<int[]> EpochSamples(BatchLoader loader, int epoch)
    {
        var batches = new List<int[]>();
        foreach (Batch b in loader.Epoch(epoch))
        {
            var ids = new int[b.Count];
            for (int k = 0; k < b.Count; k++)
            {
                int i = (int)b.Inputs[3 * k];
                Assert.Equal(i + 0.25f, b.Inputs[3 * k + 1]);
                Assert.Equal(i + 0.5f, b.Inputs[3 * k + 2]);
                Assert.Equal(100 + i, b.Labels[k]);
                ids[k] = i;
            }
            Assert.Equal(b.Count * 3, b.Inputs.Length);
            batches.Add(ids);
        }
        return batches;
    }

    [Fact]
    public void Every_sample_once_per_epoch_with_a_last_partial_batch()
    {
        var (x, y) = Toy();
        var loader = new BatchLoader(x, y, sampleSize: 3, batchSize: 4, shuffle: true, seed: 7);
        Assert.Equal(3, loader.BatchesPerEpoch);
        List<int[]> batches = EpochSamples(loader, 1);
        Assert.Equal(new[] { 4, 4, 2 }, batches.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b).OrderBy(i => i));
        Assert.NotEqual(Enumerable.Range(0, 10), batches.SelectMany(b => b)); // actually shuffled
    }

    [Fact]
    public void Drop_last_skips_the_partial_batch()
    {
        var (x, y) = Toy();
        var loader = new BatchLoader(x, y, 3, 4, shuffle: true, seed: 7, dropLast: true);
        Assert.Equal(2, loader.BatchesPerEpoch);
        List<int[]> batches = EpochSamples(loader, 1);
        Assert.Equal(new[] { 4, 4 }, batches.Select(b => b.Length));
        Assert.Equal(8, batches.SelectMany(b => b).Distinct().Count());
        // Exactly divisible: nothing dropped.
        var (x2, y2) = Toy(8);
        Assert.Equal(2, EpochSamples(new BatchLoader(x2, y2, 3, 4, dropLast: true), 1).Count);
    }

    [Fact]
    public void Order_depends_only_on_seed_and_epoch()
    {
        var (x, y) = Toy(50);
        int[] Order(ulong seed, int epoch) => EpochSamples(new BatchLoader(x, y, 3, 8, seed: seed), epoch).SelectMany(b => b).ToArray();
        Assert.Equal(Order(1, 1), Order(1, 1));
        Assert.NotEqual(Order(1, 1), Order(1, 2));
        Assert.NotEqual(Order(1, 1), Order(2, 1));

        // Replaying epoch 3 after epochs 1-2 gives the same order as starting at 3.
        var loader = new BatchLoader(x, y, 3, 8, seed: 1);
        EpochSamples(loader, 1);
        EpochSamples(loader, 2);
        Assert.Equal(Order(1, 3), EpochSamples(loader, 3).SelectMany(b => b));
        Assert.Equal(3, loader.CurrentEpoch);
    }

    [Fact]
    public void Without_shuffle_samples_come_in_index_order()
    {
        var (x, y) = Toy();
        var loader = new BatchLoader(x, y, 3, 3, shuffle: false);
        Assert.Equal(Enumerable.Range(0, 10), EpochSamples(loader, 5).SelectMany(b => b));
    }

    [Fact]
    public void Caller_buffers_are_filled_and_the_epoch_ends()
    {
        var (x, y) = Toy();
        var loader = new BatchLoader(x, y, 3, 4, shuffle: false);
        loader.StartEpoch(1);
        var xb = new float[12];
        var yb = new int[4];
        var counts = new List<int>();
        while (loader.TryNextBatch(xb, yb, out int count))
            counts.Add(count);
        Assert.Equal(new[] { 4, 4, 2 }, counts);
        Assert.Equal(new[] { 108, 109 }, yb.Take(2));
        Assert.Equal(9.5f, xb[5]);
        Assert.False(loader.TryNextBatch(out int none));
        Assert.Equal(0, none);
        Assert.Throws<ArgumentException>(() => loader.TryNextBatch(new float[11], yb, out _));
        Assert.Throws<ArgumentException>(() => new BatchLoader(new float[10], new int[3], 3, 2));
    }

    [Fact]
    public void Batches_do_not_allocate()
    {
        var (x, y) = Toy(1000);
        var loader = new BatchLoader(x, y, 3, 64, seed: 3);
        float checksum = 0;
        void RunEpoch(int e)
        {
            foreach (Batch b in loader.Epoch(e))
                checksum += b.Inputs[0] + b.Labels[b.Count - 1];
            loader.StartEpoch(e);
            while (loader.TryNextBatch(out int count))
                checksum += loader.InputBuffer[0] + loader.LabelBuffer[count - 1];
        }
        RunEpoch(1); // warm up (JIT)
        RunEpoch(2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int e = 3; e < 8; e++)
            RunEpoch(e);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0f, checksum);
    }

    [Fact]
    public void Works_over_a_real_dataset()
    {
        MnistDataset test = MnistDataset.LoadTest(TestData.Mnist);
        var loader = new BatchLoader(test, batchSize: 1000, shuffle: true, seed: 42);
        Assert.Equal(10, loader.BatchesPerEpoch);
        var seen = new int[10];
        int batches = 0;
        foreach (Batch b in loader.Epoch(1))
        {
            batches++;
            Assert.Equal(1000 * 784, b.Inputs.Length);
            foreach (int label in b.Labels) seen[label]++;
        }
        Assert.Equal(10, batches);
        Assert.Equal(10000, seen.Sum());
        Assert.Equal(test.Labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()), seen);
    }
}
