using System;
using CnnGen.IO;

namespace CnnGen
{
    /// <summary>How a model's parameters are initialized.</summary>
    public enum Initializer
    {
        /// <summary>PyTorch's defaults for Conv2d/Linear: kaiming-uniform (a = √5) weights, uniform ±1/√fan_in biases.</summary>
        PyTorch,
        /// <summary>Keras' defaults: Glorot-uniform weights, zero biases.</summary>
        GlorotUniform,
    }

    /// <summary>
    /// What every generated <c>[Model]</c> class implements, so trainers, optimizers and tools work with any model.
    /// Parameters live in one flat array in PyTorch's order (layer by layer, weight then bias).
    /// </summary>
    public interface ICnnModel
    {
        /// <summary>Floats in one input sample (C·H·W).</summary>
        int InputSize { get; }
        /// <summary>Floats in one output sample.</summary>
        int OutputSize { get; }
        /// <summary>Number of learnable parameters.</summary>
        int ParameterCount { get; }
        /// <summary>All parameters, flat, in PyTorch's <c>state_dict</c> order.</summary>
        float[] Parameters { get; }
        /// <summary>Where each named tensor lives in <see cref="Parameters"/> (safetensors keys and shapes).</summary>
        TensorSlot[] ParameterSlots { get; }
        /// <summary>
        /// State that is not a parameter: batch norm's running statistics (running_mean, running_var, and num_batches_tracked
        /// held as a float), updated by <see cref="ForwardTrain"/>, saved with the weights. Empty for models without batch norm.
        /// </summary>
        float[] Buffers => Array.Empty<float>();
        /// <summary>Where each buffer tensor lives in <see cref="Buffers"/> (safetensors keys, shapes, I64 for num_batches_tracked).</summary>
        TensorSlot[] BufferSlots => Array.Empty<TensorSlot>();
        /// <summary>The layers that run, named as the summary names them ("Conv2d-1", ...); indexes of the profiling ticks.</summary>
        string[] LayerNames { get; }

        /// <summary>Inference for one sample (dropout off). No allocation after the first call on a thread.</summary>
        void Forward(ReadOnlySpan<float> input, Span<float> output);

        /// <summary>Inference for <paramref name="batchSize"/> samples, NCHW.</summary>
        void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize);

        /// <summary>A workspace for training steps with up to <paramref name="maxBatchSize"/> samples.</summary>
        TrainingWorkspace CreateWorkspace(int maxBatchSize, ulong seed = 0);

        /// <summary>
        /// Training-mode forward pass (dropout on unless <see cref="TrainingWorkspace.DropoutEnabled"/> is false):
        /// keeps what <see cref="Backward"/> needs in <paramref name="workspace"/>.
        /// </summary>
        void ForwardTrain(TrainingWorkspace workspace, ReadOnlySpan<float> input, Span<float> output, int batchSize);

        /// <summary>
        /// Backward pass of the last <see cref="ForwardTrain"/> on this workspace: takes d(loss)/d(output) and
        /// ADDS the parameter gradients into <paramref name="parameterGradients"/> (length <see cref="ParameterCount"/>).
        /// <paramref name="inputGradient"/> receives d(loss)/d(input) when not empty.
        /// </summary>
        void Backward(TrainingWorkspace workspace, ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, Span<float> inputGradient);

        /// <summary>Loads parameters from a safetensors file with PyTorch <c>nn.Sequential</c> keys; strict, all-or-nothing.</summary>
        void LoadWeights(string path);

        /// <summary>Saves parameters as safetensors (atomically: the previous file survives a crash).</summary>
        void SaveWeights(string path);
    }

    /// <summary>
    /// Memory for training steps of one model on one thread: saved activations, pooling indices, dropout masks
    /// and scratch buffers, sized once by the generated code's compile-time memory plan.
    /// </summary>
    public sealed class TrainingWorkspace
    {
        /// <summary>Allocates a workspace; called by generated <c>CreateWorkspace</c>.</summary>
        public TrainingWorkspace(int maxBatchSize, int activationsPerSample, int indicesPerSample, int gradientsPerSample, int scratch, ulong seed)
        {
            if (maxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize, "must be at least 1");
            long largest = Math.Max(Math.Max((long)activationsPerSample, indicesPerSample), gradientsPerSample) * maxBatchSize;
            if (largest > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize,
                    $"a workspace for {maxBatchSize} samples needs {largest:N0} floats in one buffer, more than an array holds; use a smaller batch");
            MaxBatchSize = maxBatchSize;
            // Pinned and 64-byte alignable (generated code aligns its pointers with Kernels.AlignedMemory.Align).
            Activations = Kernels.AlignedMemory.Allocate((long)activationsPerSample * maxBatchSize);
            Indices = new int[(long)indicesPerSample * maxBatchSize];
            GradientA = Kernels.AlignedMemory.Allocate((long)gradientsPerSample * maxBatchSize);
            GradientB = Kernels.AlignedMemory.Allocate((long)gradientsPerSample * maxBatchSize);
            Scratch = Kernels.AlignedMemory.Allocate(scratch);
            Rng = new Rng(seed);
        }

        /// <summary>Largest batch this workspace holds.</summary>
        public int MaxBatchSize { get; }
        /// <summary>Every layer's saved input/output and dropout masks, batch-major per layer.</summary>
        public float[] Activations { get; }
        /// <summary>Max-pooling argmax indices.</summary>
        public int[] Indices { get; }
        /// <summary>Ping-pong buffers for activation gradients during backward.</summary>
        public float[] GradientA { get; }
        /// <summary>Ping-pong buffers for activation gradients during backward.</summary>
        public float[] GradientB { get; }
        /// <summary>Per-sample scratch (im2col columns).</summary>
        public float[] Scratch { get; }
        /// <summary>Random source for dropout masks.</summary>
        public Rng Rng { get; set; }
        /// <summary>When false, dropout layers pass values through in <c>ForwardTrain</c> (for deterministic checks).</summary>
        public bool DropoutEnabled { get; set; } = true;
        /// <summary>
        /// When true (the default), <c>ForwardTrain</c> moves the model's batch-norm running statistics toward this batch's
        /// and counts the batch in <c>num_batches_tracked</c>, as a PyTorch module in <c>train()</c> mode does. The trainer
        /// sets it on the workspace of the first shard only, so each step updates the statistics once, deterministically.
        /// Normalization in <c>ForwardTrain</c> always uses the batch's own statistics.
        /// </summary>
        public bool UpdateBatchNormStatistics { get; set; } = true;
        /// <summary>
        /// When set (length ≥ the model's <c>LayerNames</c>), <c>ForwardTrain</c> adds each layer's elapsed
        /// <see cref="System.Diagnostics.Stopwatch"/> ticks here: a per-layer profile. Null (the default) costs nothing.
        /// </summary>
        public long[]? ForwardTicks { get; set; }
        /// <summary>Per-layer ticks of <c>Backward</c>, like <see cref="ForwardTicks"/>.</summary>
        public long[]? BackwardTicks { get; set; }
        /// <summary>Batch size of the last <c>ForwardTrain</c>, or 0 before the first.</summary>
        public int BatchSize { get; set; }
    }
}
