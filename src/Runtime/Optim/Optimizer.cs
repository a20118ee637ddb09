using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnGen.Optim
{
    /// <summary>
    /// A first-order optimizer over one flat parameter array (the model's parameters in PyTorch order), updated in one
    /// vectorized pass per <see cref="Step"/>. The update rules are exactly those of PyTorch 1.13's <c>torch.optim</c>
    /// (single-tensor path), in float32 with the hyperparameter arithmetic in double as Python does it.
    /// </summary>
    public abstract class Optimizer
    {
        private const string Magic = "CNNGOPT1";
        private const int FormatVersion = 1;

        private double _learningRate;

        private protected Optimizer(int parameterCount, float learningRate)
        {
            if (parameterCount < 0)
                throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "Parameter count must not be negative.");
            ParameterCount = parameterCount;
            LearningRate = learningRate;
        }

        /// <summary>The number of parameters this optimizer updates (the length <see cref="Step"/> expects).</summary>
        public int ParameterCount { get; }

        /// <summary>
        /// The learning rate used by the next <see cref="Step"/>. LR schedulers set it; setting it by hand is fine too.
        /// Internally kept as the double the float denotes (0.1f is 0.1), as PyTorch keeps it.
        /// </summary>
        public float LearningRate
        {
            get => (float)_learningRate;
            set
            {
                if (!(value >= 0f) || float.IsInfinity(value))
                    throw new ArgumentOutOfRangeException(nameof(value), value, "Learning rate must be a finite number >= 0.");
                _learningRate = Numerics.Exact(value);
            }
        }

        /// <summary>The learning rate in double precision, as schedulers compute it (PyTorch keeps lr as a Python float).</summary>
        internal double LearningRateExact
        {
            get => _learningRate;
            set => _learningRate = value;
        }

        /// <summary>How many steps have been taken (PyTorch's <c>state['step']</c>); Adam's bias corrections use it.</summary>
        public long StepCount { get; private set; }

        /// <summary>A short name of the algorithm (<c>Sgd</c>, <c>Adam</c>, <c>AdamW</c>), recorded in saved state.</summary>
        public abstract string Kind { get; }

        /// <summary>
        /// One optimization step: updates <paramref name="parameters"/> in place from <paramref name="gradients"/>
        /// (both of length <see cref="ParameterCount"/>) and advances <see cref="StepCount"/>.
        /// </summary>
        /// <param name="parameters">The flat parameter array.</param>
        /// <param name="gradients">d loss / d parameters, same layout.</param>
        public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
        {
            if (parameters.Length != ParameterCount)
                throw new ArgumentException($"{Kind} was created for {ParameterCount} parameters, but got {parameters.Length}.", nameof(parameters));
            if (gradients.Length != ParameterCount)
                throw new ArgumentException($"{Kind} was created for {ParameterCount} parameters, but got {gradients.Length} gradients.", nameof(gradients));
            StepCount++;
            StepCore(parameters, gradients, StepCount, 0);
        }

        /// <summary>
        /// The part of step <paramref name="step"/> (which must be <see cref="StepCount"/> + 1) that updates elements
        /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of the parameters and of the
        /// state buffers, without advancing <see cref="StepCount"/>. Every element is updated by the same arithmetic as
        /// <see cref="Step"/> (the per-step scalars depend only on the learning rate and the step), so updating disjoint
        /// ranges that cover all parameters, on any threads, and then calling <see cref="CompleteRangeStep"/> gives
        /// bit-for-bit what one <see cref="Step"/> gives. Threads may update disjoint ranges at once; the learning rate
        /// must not change until all of them are done.
        /// </summary>
        /// <param name="parameters">The whole flat parameter array (length <see cref="ParameterCount"/>).</param>
        /// <param name="gradients">The whole gradient array, same layout.</param>
        /// <param name="start">The first element to update.</param>
        /// <param name="length">The number of elements to update.</param>
        /// <param name="step">The 1-based number of the step being taken: <see cref="StepCount"/> + 1.</param>
        internal void StepRange(Span<float> parameters, ReadOnlySpan<float> gradients, int start, int length, long step)
        {
            if (parameters.Length != ParameterCount)
                throw new ArgumentException($"{Kind} was created for {ParameterCount} parameters, but got {parameters.Length}.", nameof(parameters));
            if (gradients.Length != ParameterCount)
                throw new ArgumentException($"{Kind} was created for {ParameterCount} parameters, but got {gradients.Length} gradients.", nameof(gradients));
            if ((uint)start > (uint)ParameterCount || (uint)length > (uint)(ParameterCount - start))
                throw new ArgumentOutOfRangeException(nameof(length), $"The range [{start}, {start}+{length}) is not within {ParameterCount} parameters.");
            if (step != StepCount + 1)
                throw new ArgumentOutOfRangeException(nameof(step), step, $"The next step is {StepCount + 1}.");
            StepCore(parameters.Slice(start, length), gradients.Slice(start, length), step, start);
        }

        /// <summary>
        /// Ends a step taken with <see cref="StepRange"/> over all parameters: advances <see cref="StepCount"/> to
        /// <paramref name="step"/>.
        /// </summary>
        /// <param name="step">The step that was taken: <see cref="StepCount"/> + 1.</param>
        internal void CompleteRangeStep(long step)
        {
            if (step != StepCount + 1)
                throw new ArgumentOutOfRangeException(nameof(step), step, $"The next step is {StepCount + 1}.");
            StepCount = step;
        }

        /// <summary>Forgets all state (momentum and moment buffers, step count), as a freshly created optimizer.</summary>
        public void ResetState()
        {
            StepCount = 0;
            foreach (float[] buffer in StateBuffers)
                Array.Clear(buffer);
        }

        /// <summary>
        /// Writes the optimizer's state (kind, parameter count, step count, learning rate and its buffers) to
        /// <paramref name="stream"/>, for checkpoints. Hyperparameters other than the learning rate are not part of the
        /// state: they are the constructor's.
        /// </summary>
        /// <param name="stream">A writable stream; left open.</param>
        public void SaveState(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(FormatVersion);
            w.Write(Kind);
            w.Write(ParameterCount);
            w.Write(StepCount);
            w.Write(_learningRate);
            float[][] buffers = StateBuffers;
            w.Write(buffers.Length);
            w.Flush();
            byte[] chunk = new byte[Math.Min(ParameterCount, 16384) * sizeof(float)];
            foreach (float[] buffer in buffers)
                WriteFloats(stream, buffer, chunk);
        }

        /// <summary>
        /// Restores state written by <see cref="SaveState"/> into this optimizer (which must be of the same kind, with the
        /// same parameter count and the same buffers, e.g. both with or both without momentum / AMSGrad). On any error
        /// the optimizer is left unchanged.
        /// </summary>
        /// <param name="stream">A readable stream positioned at the state; left open.</param>
        /// <exception cref="InvalidDataException">The stream does not hold state for this optimizer, or is truncated.</exception>
        public void LoadState(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            try
            {
                using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
                byte[] magic = r.ReadBytes(Magic.Length);
                if (Encoding.ASCII.GetString(magic) != Magic)
                    throw new InvalidDataException("Not CnnGen optimizer state (bad magic).");
                int version = r.ReadInt32();
                if (version != FormatVersion)
                    throw new InvalidDataException($"Unsupported optimizer state format version {version} (expected {FormatVersion}).");
                string kind = r.ReadString();
                if (kind != Kind)
                    throw new InvalidDataException($"Optimizer state is for {kind}, but this optimizer is {Kind}.");
                int count = r.ReadInt32();
                if (count != ParameterCount)
                    throw new InvalidDataException($"Optimizer state is for {count} parameters, but this {Kind} has {ParameterCount}.");
                long steps = r.ReadInt64();
                if (steps < 0)
                    throw new InvalidDataException($"Optimizer state has a negative step count ({steps}).");
                double lr = r.ReadDouble();
                if (!(lr >= 0) || double.IsInfinity(lr))
                    throw new InvalidDataException($"Optimizer state has an invalid learning rate ({lr}).");
                float[][] buffers = StateBuffers;
                int bufferCount = r.ReadInt32();
                if (bufferCount != buffers.Length)
                    throw new InvalidDataException(
                        $"Optimizer state has {bufferCount} state buffers, but this {Kind} ({Describe()}) has {buffers.Length}.");

                var loaded = new float[buffers.Length][];
                byte[] chunk = new byte[Math.Min(ParameterCount, 16384) * sizeof(float)];
                for (int i = 0; i < loaded.Length; i++)
                {
                    loaded[i] = new float[ParameterCount];
                    ReadFloats(stream, loaded[i], chunk);
                }

                for (int i = 0; i < loaded.Length; i++)
                    loaded[i].AsSpan().CopyTo(buffers[i]);
                StepCount = steps;
                _learningRate = lr;
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException($"Optimizer state for {Kind} is truncated.", e);
            }
        }

        /// <summary>
        /// The update rule over a range of the parameters: <paramref name="parameters"/> and <paramref name="gradients"/>
        /// are elements [<paramref name="offset"/>, offset + length) of the whole arrays (and of the state buffers);
        /// <paramref name="step"/> is the 1-based number of this step. Each element's update must not depend on where
        /// the range starts or ends.
        /// </summary>
        private protected abstract void StepCore(Span<float> parameters, ReadOnlySpan<float> gradients, long step, int offset);

        /// <summary>The per-parameter state arrays, in a fixed order (saved and restored as they are).</summary>
        private protected abstract float[][] StateBuffers { get; }

        /// <summary>The options that decide which buffers exist, for error messages.</summary>
        private protected abstract string Describe();

        private static void WriteFloats(Stream stream, float[] data, byte[] chunk)
        {
            int per = chunk.Length / sizeof(float);
            for (int start = 0; start < data.Length; start += per)
            {
                int n = Math.Min(per, data.Length - start);
                Span<byte> bytes = chunk.AsSpan(0, n * sizeof(float));
                if (BitConverter.IsLittleEndian)
                    MemoryMarshal.AsBytes(data.AsSpan(start, n)).CopyTo(bytes);
                else
                    for (int i = 0; i < n; i++)
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.Slice(i * sizeof(float)), data[start + i]);
                stream.Write(bytes);
            }
        }

        private static void ReadFloats(Stream stream, float[] data, byte[] chunk)
        {
            int per = chunk.Length / sizeof(float);
            for (int start = 0; start < data.Length; start += per)
            {
                int n = Math.Min(per, data.Length - start);
                Span<byte> bytes = chunk.AsSpan(0, n * sizeof(float));
                stream.ReadExactly(bytes);
                if (BitConverter.IsLittleEndian)
                    bytes.CopyTo(MemoryMarshal.AsBytes(data.AsSpan(start, n)));
                else
                    for (int i = 0; i < n; i++)
                        data[start + i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
            }
        }
    }
}
