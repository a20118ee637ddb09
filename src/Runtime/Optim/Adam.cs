using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Optim
{
    /// <summary>
    /// Adam, as <c>torch.optim.Adam</c> (1.13): <c>g = g + wd·p</c> (L2, coupled);
    /// <c>m = β1·m + (1-β1)·g</c>; <c>v = β2·v + (1-β2)·g²</c>; with AMSGrad <c>v̂ = max(v̂, v)</c>;
    /// <c>denom = sqrt(v)/sqrt(1-β2^t) + eps</c>; <c>p = p - lr/(1-β1^t) · m/denom</c>.
    /// </summary>
    public class Adam : Optimizer
    {
        private readonly float[] _expAvg;
        private readonly float[] _expAvgSq;
        private readonly float[] _maxExpAvgSq;
        private readonly float[][] _buffers;
        private readonly double _beta1;
        private readonly double _beta2;
        private readonly double _eps;
        private readonly double _weightDecay;
        private readonly bool _decoupled;
        private readonly bool _kerasEpsilon;

        /// <summary>Creates the optimizer; the arguments mean what they mean in <c>torch.optim.Adam</c>.</summary>
        /// <param name="parameterCount">Length of the flat parameter array.</param>
        /// <param name="lr">Learning rate.</param>
        /// <param name="beta1">Decay of the first-moment average.</param>
        /// <param name="beta2">Decay of the second-moment average.</param>
        /// <param name="eps">Added to the denominator.</param>
        /// <param name="weightDecay">L2 penalty added to the gradient.</param>
        /// <param name="amsgrad">Use the AMSGrad variant (maximum of past second moments).</param>
        public Adam(int parameterCount, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
            float weightDecay = 0f, bool amsgrad = false)
            : this(parameterCount, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false)
        {
        }

        private protected Adam(int parameterCount, float lr, float beta1, float beta2, float eps, float weightDecay, bool amsgrad, bool decoupled,
            bool kerasEpsilon = false)
            : base(parameterCount, lr)
        {
            if (!(eps >= 0f) || float.IsInfinity(eps))
                throw new ArgumentOutOfRangeException(nameof(eps), eps, "Invalid epsilon value: must be >= 0.");
            if (!(beta1 >= 0f && beta1 < 1f))
                throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Invalid beta parameter at index 0: must be in [0, 1).");
            if (!(beta2 >= 0f && beta2 < 1f))
                throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Invalid beta parameter at index 1: must be in [0, 1).");
            if (!(weightDecay >= 0f) || float.IsInfinity(weightDecay))
                throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Invalid weight_decay value: must be >= 0.");
            _beta1 = Numerics.Exact(beta1);
            _beta2 = Numerics.Exact(beta2);
            _eps = Numerics.Exact(eps);
            _weightDecay = Numerics.Exact(weightDecay);
            _decoupled = decoupled;
            _kerasEpsilon = kerasEpsilon;
            AmsGrad = amsgrad;
            _expAvg = new float[parameterCount];
            _expAvgSq = new float[parameterCount];
            _maxExpAvgSq = amsgrad ? new float[parameterCount] : Array.Empty<float>();
            _buffers = amsgrad ? new[] { _expAvg, _expAvgSq, _maxExpAvgSq } : new[] { _expAvg, _expAvgSq };
        }

        /// <summary>Decay of the first-moment average.</summary>
        public float Beta1 => (float)_beta1;

        /// <summary>Decay of the second-moment average.</summary>
        public float Beta2 => (float)_beta2;

        /// <summary>Term added to the denominator.</summary>
        public float Epsilon => (float)_eps;

        /// <summary>Weight decay: an L2 term in the gradient for Adam, decoupled (<c>p *= 1 - lr·wd</c>) for AdamW.</summary>
        public float WeightDecay => (float)_weightDecay;

        /// <summary>Whether the AMSGrad variant is used.</summary>
        public bool AmsGrad { get; }

        /// <inheritdoc />
        public override string Kind => "Adam";

        private protected override float[][] StateBuffers => _buffers;

        private protected override string Describe() => AmsGrad ? "amsgrad" : "no amsgrad";

        private protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradients, long step, int offset)
        {
            double lr = LearningRateExact;
            double biasCorrection1 = 1 - Math.Pow(_beta1, step);
            double biasCorrection2 = 1 - Math.Pow(_beta2, step);
            double stepSize = lr / biasCorrection1;
            double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);

            float decay = _decoupled ? (float)(1 - lr * _weightDecay) : 1f; // AdamW: param.mul_(1 - lr*wd)
            bool decoupledDecay = _decoupled && _weightDecay != 0;
            float wd = _decoupled ? 0f : (float)_weightDecay;               // Adam: grad.add(param, alpha=wd)
            float b1 = (float)_beta1, c1 = (float)(1 - _beta1);
            float b2 = (float)_beta2, c2 = (float)(1 - _beta2);
            float bc2 = (float)biasCorrection2Sqrt;
            // Keras adds eps to the uncorrected sqrt(v) (KerasAdam): the same as torch's form with eps / sqrt(1-β2^t).
            float eps = (float)(_kerasEpsilon ? _eps / biasCorrection2Sqrt : _eps);
            float negStep = (float)(-stepSize);
            bool ams = AmsGrad;
            int n = parameters.Length;

            ref float p = ref MemoryMarshal.GetReference(parameters);
            ref float g = ref MemoryMarshal.GetReference(gradients);
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_expAvg), offset);
            ref float v = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_expAvgSq), offset);
            ref float vmax = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(ams ? _maxExpAvgSq : _expAvgSq), offset);

            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                int w = Vector<float>.Count;
                var vdecay = new Vector<float>(decay);
                var vwd = new Vector<float>(wd);
                var vb1 = new Vector<float>(b1);
                var vc1 = new Vector<float>(c1);
                var vb2 = new Vector<float>(b2);
                var vc2 = new Vector<float>(c2);
                var vbc2 = new Vector<float>(bc2);
                var veps = new Vector<float>(eps);
                var vstep = new Vector<float>(negStep);
                for (; i <= n - w; i += w)
                {
                    Vector<float> vp = Vector.LoadUnsafe(ref p, (nuint)i);
                    Vector<float> vg = Vector.LoadUnsafe(ref g, (nuint)i);
                    if (decoupledDecay)
                        vp *= vdecay;
                    if (wd != 0f)
                        vg = Numerics.MulAdd(vp, vwd, vg);
                    Vector<float> vm = Numerics.MulAdd(vg, vc1, Vector.LoadUnsafe(ref m, (nuint)i) * vb1);  // mul_(b1).add_(g, alpha=1-b1)
                    Vector<float> vv = Vector.LoadUnsafe(ref v, (nuint)i) * vb2 + vc2 * vg * vg;         // mul_(b2).addcmul_(g, g, value=1-b2)
                    Vector.StoreUnsafe(vm, ref m, (nuint)i);
                    Vector.StoreUnsafe(vv, ref v, (nuint)i);
                    if (ams)
                    {
                        vv = Vector.Max(Vector.LoadUnsafe(ref vmax, (nuint)i), vv);                      // torch.maximum
                        Vector.StoreUnsafe(vv, ref vmax, (nuint)i);
                    }
                    Vector<float> denom = Vector.SquareRoot(vv) / vbc2 + veps;                           // (v.sqrt() / bc2_sqrt).add_(eps)
                    Vector.StoreUnsafe(vp + vstep * vm / denom, ref p, (nuint)i);                         // addcdiv_(m, denom, value=-step_size)
                }
            }
            for (; i < n; i++)
            {
                float vp = Unsafe.Add(ref p, i);
                float vg = Unsafe.Add(ref g, i);
                if (decoupledDecay)
                    vp *= decay;
                if (wd != 0f)
                    vg = Numerics.MulAdd(vp, wd, vg);
                float vm = Numerics.MulAdd(vg, c1, Unsafe.Add(ref m, i) * b1);
                float vv = Unsafe.Add(ref v, i) * b2 + c2 * vg * vg;
                Unsafe.Add(ref m, i) = vm;
                Unsafe.Add(ref v, i) = vv;
                if (ams)
                {
                    float old = Unsafe.Add(ref vmax, i);
                    vv = Math.Max(old, vv); // NaN-propagating, as torch.maximum
                    Unsafe.Add(ref vmax, i) = vv;
                }
                float denom = MathF.Sqrt(vv) / bc2 + eps;
                Unsafe.Add(ref p, i) = vp + negStep * vm / denom;
            }
        }
    }

    /// <summary>
    /// AdamW, as <c>torch.optim.AdamW</c> (1.13): Adam with decoupled weight decay — <c>p = p·(1 - lr·wd)</c> before the
    /// Adam update, and no L2 term in the gradient.
    /// </summary>
    public sealed class AdamW : Adam
    {
        /// <summary>Creates the optimizer; the arguments mean what they mean in <c>torch.optim.AdamW</c>.</summary>
        /// <param name="parameterCount">Length of the flat parameter array.</param>
        /// <param name="lr">Learning rate.</param>
        /// <param name="beta1">Decay of the first-moment average.</param>
        /// <param name="beta2">Decay of the second-moment average.</param>
        /// <param name="eps">Added to the denominator.</param>
        /// <param name="weightDecay">Decoupled weight decay coefficient.</param>
        /// <param name="amsgrad">Use the AMSGrad variant.</param>
        public AdamW(int parameterCount, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
            float weightDecay = 1e-2f, bool amsgrad = false)
            : base(parameterCount, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true)
        {
        }

        /// <inheritdoc />
        public override string Kind => "AdamW";
    }
}
