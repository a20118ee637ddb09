// The data-parallel training step both benches time (model A with Adam in Program, the ResNet-class models with SGD in Big).
using System;
using System.Linq;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.Losses;

static class TrainStep
{
    /// <summary>
    /// One step over <paramref name="batch"/> images split into <paramref name="threads"/> shards: forward (training mode),
    /// cross-entropy (mean over the whole batch: summed per shard, scaled by 1/batch), backward, the shards' gradients
    /// summed, then <paramref name="update"/>(parameters, gradient). Buffers are allocated here, once, not per step.
    /// </summary>
    public static Action Create(ICnnModel model, float[] x, int[] labels, int batch, int threads, Action<float[], float[]> update)
    {
        var ws = Enumerable.Range(0, threads).Select(s => model.CreateWorkspace(batch / threads + 1, (ulong)s)).ToArray();
        var grads = Enumerable.Range(0, threads).Select(_ => new float[model.ParameterCount]).ToArray();
        var logits = new float[batch * model.OutputSize];
        var dlogits = new float[batch * model.OutputSize];
        void Shard(int s)
        {
            int per = batch / threads, start = s * per, count = s == threads - 1 ? batch - start : per;
            Array.Clear(grads[s]);
            var lo = logits.AsSpan(start * model.OutputSize, count * model.OutputSize);
            var dl = dlogits.AsSpan(start * model.OutputSize, count * model.OutputSize);
            model.ForwardTrain(ws[s], x.AsSpan(start * model.InputSize, count * model.InputSize), lo, count);
            Loss.CrossEntropy(lo, labels.AsSpan(start, count), count, model.OutputSize, dl, Reduction.Sum);
            for (int i = 0; i < dl.Length; i++) dl[i] /= batch;
            model.Backward(ws[s], dl, grads[s], Span<float>.Empty);
        }
        return () =>
        {
            if (threads == 1) Shard(0);
            else Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, Shard);
            for (int s = 1; s < threads; s++) CnnGen.Kernels.Ops.AddTo(grads[0], grads[s]);
            update(model.Parameters, grads[0]);
        };
    }
}
