using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit.Plan
{
    /// <summary>The data layout a step reads and writes.</summary>
    internal enum Layout
    {
        /// <summary>NCHW, PyTorch's layout (and the model's input and output).</summary>
        ChannelsFirst,
        /// <summary>NHWC: every pixel's channels contiguous.</summary>
        ChannelsLast,
    }

    /// <summary>Which pass a step belongs to.</summary>
    internal enum Pass
    {
        Inference,
        TrainForward,
        Backward,
    }

    /// <summary>The code a step runs: one generated method variant (or a runtime call) each.</summary>
    internal enum Kernel
    {
        /// <summary><c>{Layer}_Forward</c>, channels-first (an element-wise kind runs it in either layout).</summary>
        Forward,
        /// <summary><c>{BatchNorm2d}_Inference</c>: running statistics.</summary>
        BatchNormInference,
        /// <summary>The convolution's <c>_Forward</c> on W', b' with the batch norm after it folded in (BatchNormFold).</summary>
        FoldedConvolution,
        /// <summary><c>{Conv2d}_ForwardChannelsLast</c>: a direct convolution in channels-last.</summary>
        ChannelsLastConvolution,
        /// <summary><c>{Conv2d}_{MaxPool2d}_ForwardChannelsLast</c>: a direct convolution and the max pool after it, band by band.</summary>
        ChannelsLastConvolutionPool,
        /// <summary><c>{MaxPool2d}_ForwardChannelsLast</c>: max over channel vectors.</summary>
        ChannelsLastMaxPool,
        /// <summary><c>{MaxPool2d}_ForwardTrainChannelsLast</c>: max over channel vectors, keeping the argmax.</summary>
        ChannelsLastMaxPoolTrain,
        /// <summary>Transpose of the layer's input into channels-last.</summary>
        ToChannelsLast,
        /// <summary>Transpose of the layer's output back to channels-first.</summary>
        ToChannelsFirst,
        /// <summary>No code of its own: the step before applies it (a ReLU in its convolution, a max pool in a fused convolution, a folded batch norm).</summary>
        Fused,
        /// <summary><c>{Layer}_Backward</c>, channels-first.</summary>
        Backward,
        /// <summary><c>{Layer}_BackwardChannelsLast</c> (convolutions and max pools of the channels-last training run).</summary>
        BackwardChannelsLast,
    }

    /// <summary>The inference ping-pong buffers a step reads or writes.</summary>
    internal enum Buffer
    {
        /// <summary>The caller's input chunk (never written).</summary>
        Input,
        A,
        B,
        /// <summary>The caller's output chunk.</summary>
        Output,
        /// <summary>Training: the activation arena (<see cref="PlanStep.InSlot"/>, <see cref="PlanStep.OutSlot"/>).</summary>
        Arena,
    }

    /// <summary>
    /// One step of a pass: which layer (index into the model's layers), which kernel, in which layout, in which fusion
    /// group (a channels-last run: -1 for none), and where it reads and writes.
    /// </summary>
    internal sealed record PlanStep(Pass Pass, int Layer, string Name, LayerKind Kind, Kernel Kernel, Layout Layout, int Group)
    {
        /// <summary>Inference: one sample at a time (the channels-last run from the model's input).</summary>
        public bool PerSample { get; init; }
        /// <summary>Inference: writes its input buffer (an in-place kind whose input is not the caller's).</summary>
        public bool InPlace { get; init; }
        public Buffer In { get; init; }
        public Buffer Out { get; init; }
        /// <summary>Training: offsets in the activation arena (floats per sample) from the memory plan.</summary>
        public long InSlot { get; init; } = -1;
        public long OutSlot { get; init; } = -1;
        /// <summary>Per-sample sizes of what it reads and writes (the per-sample loop strides by them).</summary>
        public long InSize { get; init; }
        public long OutSize { get; init; }
    }

    /// <summary>The method variants a layer's own code provides (what the plan calls of it).</summary>
    [Flags]
    internal enum Variants
    {
        None = 0,
        Forward = 1,
        Backward = 2,
        Inference = 4,
        /// <summary>A convolution whose batch norm is applied in its store (<c>_RunScaled</c>: scale and shift per output channel).</summary>
        ScaledRun = 8,
    }

    /// <summary>
    /// The lowered model: the ordered steps of inference, of the training forward pass and of backward, each with its
    /// kernel, layout, fusion group and buffers; and, per layer, which of its channels-first methods anything calls.
    /// Computed once (<see cref="Lowering.Lower"/>) from the shapes; the emitters print it and decide nothing.
    /// </summary>
    internal sealed record ExecutionPlan(
        bool Branchy,
        EquatableArray<PlanStep> Inference,
        EquatableArray<PlanStep> TrainForward,
        EquatableArray<PlanStep> Backward,
        EquatableArray<int> LayerVariants)
    {
        public Variants VariantsOf(int layer) => (Variants)LayerVariants[layer];

        public bool Calls(int layer, Variants v) => (VariantsOf(layer) & v) == v;

        /// <summary>All steps of the three passes.</summary>
        public IEnumerable<PlanStep> Steps => Inference.Concat(TrainForward).Concat(Backward);

        /// <summary>
        /// The plan's invariants, independent of how it was made (empty when it holds): every channels-last step runs a
        /// layer the capability table allows there, with a channels-last kernel or, for an element-wise kind, its own
        /// forward (which is layout-blind); nothing but a transpose changes the layout.
        /// </summary>
        public IEnumerable<string> Violations()
        {
            foreach (var s in Steps)
            {
                if (s.Layout != Layout.ChannelsLast) continue;
                var row = LayerTable.Of(s.Kind);
                if (!row.ChannelsLast) yield return $"{s.Pass} {s.Name}: {s.Kind} has no channels-last form, but runs in a channels-last run";
                bool layoutBlind = s.Kernel == Kernel.Forward || s.Kernel == Kernel.Backward;
                if (layoutBlind && !row.ElementWise) yield return $"{s.Pass} {s.Name}: {s.Kind} is not element-wise, but its channels-first {s.Kernel} runs in a channels-last run";
            }
        }

        /// <summary>How a pass runs a layer, for the generated file's header (training: the forward pass, then backward).</summary>
        public string Describe(int layer, Pass pass)
        {
            string Of(IEnumerable<PlanStep> steps) => string.Join(" + ", steps.Where(s => s.Layer == layer).Select(Short));
            if (pass == Pass.Inference) return Of(Inference);
            string forward = Of(TrainForward), backward = Of(Backward);
            return forward == backward ? forward : $"{forward} / {backward}";
        }

        private static string Short(PlanStep s)
        {
            string group = s.Group >= 0 ? $" [run {s.Group + 1}]" : "";
            return s.Kernel switch
            {
                Kernel.Forward or Kernel.Backward when s.Layout == Layout.ChannelsLast => "element-wise in NHWC" + group,
                Kernel.Forward or Kernel.Backward => "NCHW",
                Kernel.BatchNormInference => "running stats",
                Kernel.FoldedConvolution => "NCHW, BN folded in",
                Kernel.ChannelsLastConvolution => "direct NHWC" + group,
                Kernel.ChannelsLastConvolutionPool => "direct NHWC + next pool" + group,
                Kernel.ChannelsLastMaxPool => "NHWC" + group,
                Kernel.ChannelsLastMaxPoolTrain => "NHWC + argmax" + group,
                Kernel.ToChannelsLast => "to NHWC",
                Kernel.ToChannelsFirst => "to NCHW",
                Kernel.Fused => "fused",
                Kernel.BackwardChannelsLast => "NHWC" + group,
                _ => s.Kernel.ToString(),
            };
        }
    }
}
