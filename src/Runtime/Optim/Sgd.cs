using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Optim
{
    /// <summary>
    /// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, as
    /// <c>torch.optim.SGD</c> (1.13): <c>d = g + wd·p</c>; with momentum, <c>buf = d</c> on the first step and
    /// <c>buf = momentum·buf + (1 - dampening)·d</c> afterwards, then <c>d = d + momentum·buf</c> (Nesterov) or
    /// <c>d = buf</c>; finally <c>p = p - lr·d</c>.
    /// </summary>
    public sealed class Sgd : Optimizer
    {
        private readonly float[] _momentumBuffer;
        private readonly float[][] _buffers;
        private readonly double _momentum;
        private readonly double _dampening;
        private readonly double _weightDecay;

        /// <summary>Creates the optimizer; the arguments mean what they mean in <c>torch.optim.SGD</c>.</summary>
        /// <param name="parameterCount">Length of the flat parameter array.</param>
        /// <param name="lr">Learning rate.</param>
        /// <param name="momentum">Momentum factor (0 = none).</param>
        /// <param name="dampening">Dampening for momentum.</param>
        /// <param name="nesterov">Nesterov momentum (needs momentum &gt; 0 and dampening 0).</param>
        /// <param name="weightDecay">L2 penalty added to the gradient.</param>
        public Sgd(int parameterCount, float lr, float momentum = 0f, float dampening = 0f, bool nesterov = false, float weightDecay = 0f)
            : base(parameterCount, lr)
        {
            if (!(momentum >= 0f) || float.IsInfinity(momentum))
                throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Invalid momentum value: must be >= 0.");
            if (!(weightDecay >= 0f) || float.IsInfinity(weightDecay))
                throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Invalid weight_decay value: must be >= 0.");
            if (float.IsNaN(dampening) || float.IsInfinity(dampening))
                throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "Dampening must be finite.");
            if (nesterov && (momentum <= 0f || dampening != 0f))
                throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening.", nameof(nesterov));
            _momentum = Numerics.Exact(momentum);
            _dampening = Numerics.Exact(dampening);
            _weightDecay = Numerics.Exact(weightDecay);
            Nesterov = nesterov;
            _momentumBuffer = momentum != 0f ? new float[parameterCount] : Array.Empty<float>();
            _buffers = momentum != 0f ? new[] { _momentumBuffer } : Array.Empty<float[]>();
        }

        /// <summary>Momentum factor.</summary>
        public float Momentum => (float)_momentum;

        /// <summary>Dampening for momentum.</summary>
        public float Dampening => (float)_dampening;

        /// <summary>Whether Nesterov momentum is used.</summary>
        public bool Nesterov { get; }

        /// <summary>L2 penalty (added to the gradient).</summary>
        public float WeightDecay => (float)_weightDecay;

        /// <inheritdoc />
        public override string Kind => "Sgd";

        private protected override float[][] StateBuffers => _buffers;

        private protected override string Describe() => _momentum != 0 ? $"momentum {Momentum}" : "no momentum";

        private protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradients, long step, int offset)
        {
            // PyTorch turns each Python-double scalar into a float32 operand of the tensor op.
            float wd = (float)_weightDecay;
            float mom = (float)_momentum;
            float keep = (float)(1.0 - _dampening);
            float negLr = (float)(-LearningRateExact);
            bool hasMomentum = _momentum != 0;
            bool first = step == 1;
            bool nesterov = Nesterov;
            int n = parameters.Length;

            ref float p = ref MemoryMarshal.GetReference(parameters);
            ref float g = ref MemoryMarshal.GetReference(gradients);
            ref float b = ref hasMomentum ? ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_momentumBuffer), offset) : ref Unsafe.NullRef<float>();

            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                int w = Vector<float>.Count;
                var vwd = new Vector<float>(wd);
                var vmom = new Vector<float>(mom);
                var vkeep = new Vector<float>(keep);
                var vlr = new Vector<float>(negLr);
                for (; i <= n - w; i += w)
                {
                    Vector<float> vp = Vector.LoadUnsafe(ref p, (nuint)i);
                    Vector<float> d = Vector.LoadUnsafe(ref g, (nuint)i);
                    if (wd != 0f)
                        d = Numerics.MulAdd(vp, vwd, d);                      // grad.add(param, alpha=wd)
                    if (hasMomentum)
                    {
                        Vector<float> buf = first
                            ? d                                                // clone(d_p)
                            : Numerics.MulAdd(d, vkeep, Vector.LoadUnsafe(ref b, (nuint)i) * vmom); // buf.mul_(m).add_(d, alpha=1-damp)
                        Vector.StoreUnsafe(buf, ref b, (nuint)i);
                        d = nesterov ? Numerics.MulAdd(buf, vmom, d) : buf;   // d.add(buf, alpha=m) | buf
                    }
                    Vector.StoreUnsafe(Numerics.MulAdd(d, vlr, vp), ref p, (nuint)i); // param.add_(d, alpha=-lr)
                }
            }
            for (; i < n; i++)
            {
                float vp = Unsafe.Add(ref p, i);
                float d = Unsafe.Add(ref g, i);
                if (wd != 0f)
                    d = Numerics.MulAdd(vp, wd, d);
                if (hasMomentum)
                {
                    float buf = first ? d : Numerics.MulAdd(d, keep, Unsafe.Add(ref b, i) * mom);
                    Unsafe.Add(ref b, i) = buf;
                    d = nesterov ? Numerics.MulAdd(buf, mom, d) : buf;
                }
                Unsafe.Add(ref p, i) = Numerics.MulAdd(d, negLr, vp);
            }
        }
    }
}
