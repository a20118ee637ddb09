using System;

namespace CnnGen.Optim
{
    /// <summary>
    /// A learning-rate schedule, as <c>torch.optim.lr_scheduler</c> (1.13). Step 0 is the learning rate before any call
    /// to <see cref="Step"/>; each <see cref="Step"/> (call it after <see cref="Optimizer.Step"/>, once per epoch or per
    /// batch as the schedule is meant) advances <see cref="LastStep"/> and sets the optimizer's learning rate to
    /// <see cref="LearningRateAt"/>(<see cref="LastStep"/>). Rates are computed in double precision as Python does.
    /// </summary>
    public abstract class LRScheduler
    {
        private protected LRScheduler(double baseLearningRate)
        {
            if (!(baseLearningRate >= 0) || double.IsInfinity(baseLearningRate))
                throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate, "Base learning rate must be a finite number >= 0.");
            BaseLearningRateExact = baseLearningRate;
        }

        /// <summary>The learning rate at step 0 (PyTorch's <c>base_lrs[0]</c>, the optimizer's initial lr).</summary>
        public float BaseLearningRate => (float)BaseLearningRateExact;

        /// <summary>The number of <see cref="Step"/> calls so far (PyTorch's <c>last_epoch</c>); settable to resume.</summary>
        public int LastStep { get; set; }

        /// <summary>The learning rate at <see cref="LastStep"/>.</summary>
        public float LearningRate => LearningRateAt(LastStep);

        private protected double BaseLearningRateExact { get; }

        /// <summary>The learning rate after <paramref name="step"/> calls to <see cref="Step"/>.</summary>
        /// <param name="step">The step, from 0.</param>
        /// <returns>The learning rate.</returns>
        public float LearningRateAt(int step) => (float)ExactAt(step);

        /// <summary>Advances the schedule by one step and sets <paramref name="optimizer"/>'s learning rate.</summary>
        /// <param name="optimizer">The optimizer whose learning rate is scheduled.</param>
        public void Step(Optimizer optimizer)
        {
            ArgumentNullException.ThrowIfNull(optimizer);
            double lr = ExactAt(LastStep + 1);
            LastStep++;
            optimizer.LearningRateExact = lr;
        }

        /// <summary>Sets <paramref name="optimizer"/>'s learning rate to the one at <see cref="LastStep"/>, without advancing.</summary>
        /// <param name="optimizer">The optimizer whose learning rate is scheduled.</param>
        public void Apply(Optimizer optimizer)
        {
            ArgumentNullException.ThrowIfNull(optimizer);
            optimizer.LearningRateExact = ExactAt(LastStep);
        }

        /// <summary>The schedule's formula, in double precision.</summary>
        private protected abstract double ExactAt(int step);

        private protected static void CheckStep(int step)
        {
            if (step < 0)
                throw new ArgumentOutOfRangeException(nameof(step), step, "Step must be >= 0.");
        }
    }

    /// <summary>
    /// <c>torch.optim.lr_scheduler.StepLR</c>: the base learning rate times <c>gamma^(step / stepSize)</c> (integer division).
    /// </summary>
    public sealed class StepLR : LRScheduler
    {
        private readonly double _gamma;

        /// <summary>Schedules <paramref name="optimizer"/>, whose current learning rate is the base rate.</summary>
        /// <param name="optimizer">The optimizer.</param>
        /// <param name="stepSize">Steps between decays.</param>
        /// <param name="gamma">Multiplicative decay factor.</param>
        public StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f)
            : this(BaseOf(optimizer), stepSize, Numerics.Exact(gamma))
        {
            Apply(optimizer);
        }

        /// <summary>A schedule starting at <paramref name="baseLearningRate"/>.</summary>
        /// <param name="baseLearningRate">The learning rate at step 0.</param>
        /// <param name="stepSize">Steps between decays.</param>
        /// <param name="gamma">Multiplicative decay factor.</param>
        public StepLR(float baseLearningRate, int stepSize, float gamma = 0.1f)
            : this(Numerics.Exact(baseLearningRate), stepSize, Numerics.Exact(gamma))
        {
        }

        private StepLR(double baseLr, int stepSize, double gamma)
            : base(baseLr)
        {
            if (stepSize <= 0)
                throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "stepSize must be positive.");
            if (!(gamma >= 0) || double.IsInfinity(gamma))
                throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a finite number >= 0.");
            StepSize = stepSize;
            _gamma = gamma;
        }

        /// <summary>Steps between decays.</summary>
        public int StepSize { get; }

        /// <summary>Multiplicative decay factor.</summary>
        public float Gamma => (float)_gamma;

        private protected override double ExactAt(int step)
        {
            CheckStep(step);
            return BaseLearningRateExact * Math.Pow(_gamma, step / StepSize);
        }

        internal static double BaseOf(Optimizer optimizer)
        {
            ArgumentNullException.ThrowIfNull(optimizer);
            return optimizer.LearningRateExact;
        }
    }

    /// <summary>
    /// <c>torch.optim.lr_scheduler.CosineAnnealingLR</c>:
    /// <c>etaMin + (base - etaMin)·(1 + cos(π·step/tMax))/2</c> (a cosine with period <c>2·tMax</c>; PyTorch's recursive
    /// form gives the same values).
    /// </summary>
    public sealed class CosineAnnealingLR : LRScheduler
    {
        private readonly double _etaMin;

        /// <summary>Schedules <paramref name="optimizer"/>, whose current learning rate is the base rate.</summary>
        /// <param name="optimizer">The optimizer.</param>
        /// <param name="tMax">Steps from the base rate down to <paramref name="etaMin"/>.</param>
        /// <param name="etaMin">The minimum learning rate.</param>
        public CosineAnnealingLR(Optimizer optimizer, int tMax, float etaMin = 0f)
            : this(StepLR.BaseOf(optimizer), tMax, Numerics.Exact(etaMin))
        {
            Apply(optimizer);
        }

        /// <summary>A schedule starting at <paramref name="baseLearningRate"/>.</summary>
        /// <param name="baseLearningRate">The learning rate at step 0.</param>
        /// <param name="tMax">Steps from the base rate down to <paramref name="etaMin"/>.</param>
        /// <param name="etaMin">The minimum learning rate.</param>
        public CosineAnnealingLR(float baseLearningRate, int tMax, float etaMin = 0f)
            : this(Numerics.Exact(baseLearningRate), tMax, Numerics.Exact(etaMin))
        {
        }

        private CosineAnnealingLR(double baseLr, int tMax, double etaMin)
            : base(baseLr)
        {
            if (tMax <= 0)
                throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "tMax must be positive.");
            if (double.IsNaN(etaMin) || double.IsInfinity(etaMin))
                throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin must be finite.");
            TMax = tMax;
            _etaMin = etaMin;
        }

        /// <summary>Steps from the base rate down to <see cref="EtaMin"/>.</summary>
        public int TMax { get; }

        /// <summary>The minimum learning rate.</summary>
        public float EtaMin => (float)_etaMin;

        private protected override double ExactAt(int step)
        {
            CheckStep(step);
            return _etaMin + (BaseLearningRateExact - _etaMin) * (1 + Math.Cos(Math.PI * step / TMax)) / 2;
        }
    }

    /// <summary>How <see cref="OneCycleLR"/> moves between its phase end points.</summary>
    public enum AnnealStrategy
    {
        /// <summary>Cosine annealing (PyTorch's <c>anneal_strategy='cos'</c>, the default).</summary>
        Cos,

        /// <summary>Linear annealing (<c>anneal_strategy='linear'</c>).</summary>
        Linear,
    }

    /// <summary>
    /// <c>torch.optim.lr_scheduler.OneCycleLR</c> (learning rate only; momentum cycling is not done): from
    /// <c>maxLr / divFactor</c> up to <c>maxLr</c> over the first <c>pctStart</c> of <c>totalSteps</c>, then down to
    /// <c>maxLr / divFactor / finalDivFactor</c> (or, with <c>threePhase</c>, back to the initial rate and then down).
    /// Call <see cref="LRScheduler.Step"/> once per batch; stepping past <c>totalSteps</c> is an error, as in PyTorch.
    /// </summary>
    public sealed class OneCycleLR : LRScheduler
    {
        private readonly (double EndStep, double StartLr, double EndLr)[] _phases;

        /// <summary>Schedules <paramref name="optimizer"/> and sets its learning rate to the initial rate.</summary>
        /// <param name="optimizer">The optimizer.</param>
        /// <param name="maxLr">The peak learning rate.</param>
        /// <param name="totalSteps">The number of steps in the cycle.</param>
        /// <param name="pctStart">The fraction of the cycle spent increasing the rate.</param>
        /// <param name="divFactor">Initial rate = maxLr / divFactor.</param>
        /// <param name="finalDivFactor">Minimum rate = initial rate / finalDivFactor.</param>
        /// <param name="annealStrategy">Cosine (default) or linear annealing.</param>
        /// <param name="threePhase">Use PyTorch's three-phase variant.</param>
        public OneCycleLR(Optimizer optimizer, float maxLr, int totalSteps, double pctStart = 0.3, double divFactor = 25,
            double finalDivFactor = 1e4, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool threePhase = false)
            : this(maxLr, totalSteps, pctStart, divFactor, finalDivFactor, annealStrategy, threePhase)
        {
            ArgumentNullException.ThrowIfNull(optimizer);
            Apply(optimizer);
        }

        /// <summary>A one-cycle schedule.</summary>
        /// <param name="maxLr">The peak learning rate.</param>
        /// <param name="totalSteps">The number of steps in the cycle.</param>
        /// <param name="pctStart">The fraction of the cycle spent increasing the rate.</param>
        /// <param name="divFactor">Initial rate = maxLr / divFactor.</param>
        /// <param name="finalDivFactor">Minimum rate = initial rate / finalDivFactor.</param>
        /// <param name="annealStrategy">Cosine (default) or linear annealing.</param>
        /// <param name="threePhase">Use PyTorch's three-phase variant.</param>
        public OneCycleLR(float maxLr, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4,
            AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool threePhase = false)
            : base(Numerics.Exact(maxLr) / divFactor)
        {
            if (totalSteps <= 0)
                throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "totalSteps must be positive.");
            if (!(pctStart >= 0 && pctStart <= 1))
                throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in [0, 1].");
            if (!(divFactor > 0) || double.IsInfinity(divFactor))
                throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be positive.");
            if (!(finalDivFactor > 0) || double.IsInfinity(finalDivFactor))
                throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be positive.");
            if (annealStrategy != AnnealStrategy.Cos && annealStrategy != AnnealStrategy.Linear)
                throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "Unknown anneal strategy.");

            double max = Numerics.Exact(maxLr);
            double initial = max / divFactor;
            double min = initial / finalDivFactor;
            TotalSteps = totalSteps;
            Strategy = annealStrategy;
            MaxLearningRate = maxLr;
            _phases = threePhase
                ? new[]
                {
                    (pctStart * totalSteps - 1, initial, max),
                    (2 * pctStart * totalSteps - 2, max, initial),
                    ((double)totalSteps - 1, initial, min),
                }
                : new[]
                {
                    (pctStart * totalSteps - 1, initial, max),
                    ((double)totalSteps - 1, max, min),
                };
        }

        /// <summary>The number of steps in the cycle.</summary>
        public int TotalSteps { get; }

        /// <summary>The peak learning rate.</summary>
        public float MaxLearningRate { get; }

        /// <summary>Cosine or linear annealing.</summary>
        public AnnealStrategy Strategy { get; }

        private protected override double ExactAt(int step)
        {
            CheckStep(step);
            if (step > TotalSteps)
                throw new ArgumentOutOfRangeException(nameof(step), step,
                    $"Tried to step {step} times. The specified number of total steps is {TotalSteps}.");
            double start = 0;
            for (int i = 0; i < _phases.Length; i++)
            {
                (double end, double startLr, double endLr) = _phases[i];
                if (step <= end || i == _phases.Length - 1)
                {
                    double pct = (step - start) / (end - start);
                    return Strategy == AnnealStrategy.Cos
                        ? endLr + (startLr - endLr) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
                        : (endLr - startLr) * pct + startLr;
                }
                start = end;
            }
            throw new InvalidOperationException("unreachable");
        }
    }
}
