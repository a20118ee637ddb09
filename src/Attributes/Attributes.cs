using System;

namespace CnnGen
{
    /// <summary>
    /// Marks a <c>partial class</c> as a CnnGen model. The layer attributes that follow run top to bottom,
    /// like PyTorch's <c>nn.Sequential</c>; the source generator checks every shape at compile time and
    /// generates the summary tables, constants and (later) the forward and backward code.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class ModelAttribute : Attribute
    {
        /// <summary>
        /// A safetensors file whose weights are compiled into the model (optional). Name an <c>AdditionalFiles</c>
        /// item of the project, by the path it is included with or by its file name:
        /// <c>[Model(Weights = "mnist.safetensors")]</c> with <c>&lt;AdditionalFiles Include="mnist.safetensors" /&gt;</c>.
        /// The generator checks every tensor against the model at compile time (CNN0030-CNN0037) and emits the
        /// weights as static read-only data: the parameterless constructor then starts with them, and the
        /// program needs no file at run time.
        /// </summary>
        public string? Weights { get; set; }
    }

    /// <summary>
    /// The shape of one input sample, channels first (NCHW without the batch dimension), as PyTorch's
    /// <c>torchsummary.summary(model, (channels, height, width))</c> takes it.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class InputAttribute : Attribute
    {
        /// <summary>Declares a (channels, height, width) input.</summary>
        public InputAttribute(int channels, int height, int width)
        {
            Channels = channels;
            Height = height;
            Width = width;
        }

        /// <summary>Number of input channels.</summary>
        public int Channels { get; }
        /// <summary>Input height in pixels.</summary>
        public int Height { get; }
        /// <summary>Input width in pixels.</summary>
        public int Width { get; }
    }

    /// <summary>Base class of every layer attribute.</summary>
    public abstract class LayerAttribute : Attribute
    {
        /// <summary>
        /// Replaces the layer's 0-based position in its safetensors keys (<c>"3.weight"</c> becomes
        /// <c>"{Name}.weight"</c>), so weights of a PyTorch model with named submodules load directly.
        /// </summary>
        public string? Name { get; set; }
    }

    /// <summary>
    /// 2-D convolution, as PyTorch's <c>nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    /// dilation=1, groups=1, bias=True)</c>. Weight shape [out, in / groups, kH, kW]; bias [out].
    /// Rectangular forms: set <see cref="KernelHeight"/>/<see cref="KernelWidth"/>, <see cref="StrideHeight"/>/<see cref="StrideWidth"/>, ...
    /// which override the square value for their dimension.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2dAttribute : LayerAttribute
    {
        /// <summary>Declares a square-kernel convolution.</summary>
        public Conv2dAttribute(int inChannels, int outChannels, int kernelSize)
        {
            InChannels = inChannels;
            OutChannels = outChannels;
            KernelSize = kernelSize;
        }

        /// <summary>Input channels (must match the previous layer's output channels).</summary>
        public int InChannels { get; }
        /// <summary>Output channels.</summary>
        public int OutChannels { get; }
        /// <summary>Square kernel size.</summary>
        public int KernelSize { get; }
        /// <summary>Kernel height (overrides <see cref="KernelSize"/> vertically).</summary>
        public int KernelHeight { get; set; }
        /// <summary>Kernel width (overrides <see cref="KernelSize"/> horizontally).</summary>
        public int KernelWidth { get; set; }
        /// <summary>Stride in both dimensions (default 1).</summary>
        public int Stride { get; set; } = 1;
        /// <summary>Vertical stride.</summary>
        public int StrideHeight { get; set; }
        /// <summary>Horizontal stride.</summary>
        public int StrideWidth { get; set; }
        /// <summary>Zero padding on each side (default 0).</summary>
        public int Padding { get; set; }
        /// <summary>Zero padding at top and bottom.</summary>
        public int PaddingHeight { get; set; }
        /// <summary>Zero padding at left and right.</summary>
        public int PaddingWidth { get; set; }
        /// <summary>Spacing between kernel taps (default 1).</summary>
        public int Dilation { get; set; } = 1;
        /// <summary>Vertical dilation.</summary>
        public int DilationHeight { get; set; }
        /// <summary>Horizontal dilation.</summary>
        public int DilationWidth { get; set; }
        /// <summary>Blocked connections from input to output channels (default 1); must divide both channel counts.</summary>
        public int Groups { get; set; } = 1;
        /// <summary>Whether the layer has a learnable bias (default true).</summary>
        public bool Bias { get; set; } = true;
        /// <summary>
        /// An activation applied to the output, by Keras' name (<c>Activation = "relu"</c>, as Keras'
        /// <c>activation='relu'</c>): "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "leaky_relu", "relu6",
        /// "silu"/"swish", or "linear" (none). It runs as the functional op after the layer: no summary row of its own
        /// (Keras shows it in the layer's row; PyTorch has no module for it) and no key position.
        /// </summary>
        public string? Activation { get; set; }
    }

    /// <summary>
    /// 2-D max pooling, as PyTorch's <c>nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1)</c>;
    /// the stride defaults to the kernel size; padding may be at most half the kernel.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxPool2dAttribute : LayerAttribute
    {
        /// <summary>Declares a square max-pooling window.</summary>
        public MaxPool2dAttribute(int kernelSize) { KernelSize = kernelSize; }
        /// <summary>Square window size.</summary>
        public int KernelSize { get; }
        /// <summary>Window height.</summary>
        public int KernelHeight { get; set; }
        /// <summary>Window width.</summary>
        public int KernelWidth { get; set; }
        /// <summary>Stride (default: the kernel size).</summary>
        public int Stride { get; set; }
        /// <summary>Vertical stride.</summary>
        public int StrideHeight { get; set; }
        /// <summary>Horizontal stride.</summary>
        public int StrideWidth { get; set; }
        /// <summary>Implicit negative-infinity padding on each side (default 0).</summary>
        public int Padding { get; set; }
        /// <summary>Padding at top and bottom.</summary>
        public int PaddingHeight { get; set; }
        /// <summary>Padding at left and right.</summary>
        public int PaddingWidth { get; set; }
        /// <summary>Spacing between window elements (default 1).</summary>
        public int Dilation { get; set; } = 1;
        /// <summary>Vertical dilation.</summary>
        public int DilationHeight { get; set; }
        /// <summary>Horizontal dilation.</summary>
        public int DilationWidth { get; set; }
    }

    /// <summary>
    /// 2-D average pooling, as PyTorch's <c>nn.AvgPool2d(kernel_size, stride=None, padding=0)</c> with
    /// <c>count_include_pad=True</c>; the stride defaults to the kernel size.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AvgPool2dAttribute : LayerAttribute
    {
        /// <summary>Declares a square average-pooling window.</summary>
        public AvgPool2dAttribute(int kernelSize) { KernelSize = kernelSize; }
        /// <summary>Square window size.</summary>
        public int KernelSize { get; }
        /// <summary>Window height.</summary>
        public int KernelHeight { get; set; }
        /// <summary>Window width.</summary>
        public int KernelWidth { get; set; }
        /// <summary>Stride (default: the kernel size).</summary>
        public int Stride { get; set; }
        /// <summary>Vertical stride.</summary>
        public int StrideHeight { get; set; }
        /// <summary>Horizontal stride.</summary>
        public int StrideWidth { get; set; }
        /// <summary>Zero padding on each side (default 0), counted in the divisor.</summary>
        public int Padding { get; set; }
        /// <summary>Padding at top and bottom.</summary>
        public int PaddingHeight { get; set; }
        /// <summary>Padding at left and right.</summary>
        public int PaddingWidth { get; set; }
    }

    /// <summary>Rectified linear unit, as PyTorch's <c>nn.ReLU()</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLUAttribute : LayerAttribute { }

    /// <summary>Leaky ReLU, as PyTorch's <c>nn.LeakyReLU(negative_slope=0.01)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LeakyReLUAttribute : LayerAttribute
    {
        /// <summary>Declares a leaky ReLU with the given slope for negative inputs.</summary>
        public LeakyReLUAttribute(double negativeSlope = 0.01) { NegativeSlope = negativeSlope; }
        /// <summary>Slope for negative inputs.</summary>
        public double NegativeSlope { get; }
    }

    /// <summary>Exponential linear unit, as PyTorch's <c>nn.ELU(alpha=1.0)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ELUAttribute : LayerAttribute
    {
        /// <summary>Declares an ELU.</summary>
        public ELUAttribute(double alpha = 1.0) { Alpha = alpha; }
        /// <summary>Saturation value for negative inputs.</summary>
        public double Alpha { get; }
    }

    /// <summary>Logistic sigmoid, as PyTorch's <c>nn.Sigmoid()</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SigmoidAttribute : LayerAttribute { }

    /// <summary>Hyperbolic tangent, as PyTorch's <c>nn.Tanh()</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class TanhAttribute : LayerAttribute { }

    /// <summary>Softmax over the features of each sample, as PyTorch's <c>nn.Softmax(dim=1)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftmaxAttribute : LayerAttribute { }

    /// <summary>Log-softmax over the features of each sample, as PyTorch's <c>nn.LogSoftmax(dim=1)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LogSoftmaxAttribute : LayerAttribute { }

    /// <summary>Flattens [C, H, W] to [C·H·W], as PyTorch's <c>nn.Flatten()</c>; a free reshape.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class FlattenAttribute : LayerAttribute { }

    /// <summary>
    /// Fully connected layer, as PyTorch's <c>nn.Linear(in_features, out_features, bias=True)</c>.
    /// Weight shape [out, in]; bias [out].
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LinearAttribute : LayerAttribute
    {
        /// <summary>Declares a fully connected layer.</summary>
        public LinearAttribute(int inFeatures, int outFeatures)
        {
            InFeatures = inFeatures;
            OutFeatures = outFeatures;
        }

        /// <summary>Input features (must match the flattened previous output).</summary>
        public int InFeatures { get; }
        /// <summary>Output features.</summary>
        public int OutFeatures { get; }
        /// <summary>Whether the layer has a learnable bias (default true).</summary>
        public bool Bias { get; set; } = true;
        /// <summary>
        /// An activation applied to the output, by Keras' name (<c>Activation = "relu"</c>, as Keras'
        /// <c>activation='relu'</c>): "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "leaky_relu", "relu6",
        /// "silu"/"swish", or "linear" (none). It runs as the functional op after the layer: no summary row of its own
        /// (Keras shows it in the layer's row; PyTorch has no module for it) and no key position.
        /// </summary>
        public string? Activation { get; set; }
    }

    /// <summary>
    /// Dropout, as PyTorch's <c>nn.Dropout(p=0.5)</c>: in training, zeroes each element with probability p and
    /// scales the rest by 1/(1-p); identity in inference.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DropoutAttribute : LayerAttribute
    {
        /// <summary>Declares dropout with drop probability <paramref name="p"/> in [0, 1).</summary>
        public DropoutAttribute(double p = 0.5) { P = p; }
        /// <summary>Drop probability.</summary>
        public double P { get; }
    }

    /// <summary>
    /// Channel dropout, as PyTorch's <c>nn.Dropout2d(p=0.5)</c>: in training, zeroes whole channels with
    /// probability p and scales the rest by 1/(1-p); identity in inference.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Dropout2dAttribute : LayerAttribute
    {
        /// <summary>Declares channel dropout with drop probability <paramref name="p"/> in [0, 1).</summary>
        public Dropout2dAttribute(double p = 0.5) { P = p; }
        /// <summary>Drop probability.</summary>
        public double P { get; }
    }

    // ---- issue 6: normalization, global pooling, more activations ----------------------------------

    /// <summary>
    /// Batch normalization over the channels of a [C, H, W] input, as PyTorch's
    /// <c>nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True)</c>. Training (<c>ForwardTrain</c>)
    /// normalizes with the batch's mean and biased variance and updates the running statistics
    /// (<c>running = (1 − momentum)·running + momentum·batch</c>, unbiased variance) and
    /// <c>num_batches_tracked</c>; inference (<c>Forward</c>) uses the running statistics.
    /// Parameters: weight [C] (γ), bias [C] (β) when <see cref="Affine"/>; buffers: running_mean [C],
    /// running_var [C], num_batches_tracked [] (int64 in safetensors).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BatchNorm2dAttribute : LayerAttribute
    {
        /// <summary>Declares batch normalization of <paramref name="numFeatures"/> channels.</summary>
        public BatchNorm2dAttribute(int numFeatures) { NumFeatures = numFeatures; }
        /// <summary>Channels (must match the incoming channels).</summary>
        public int NumFeatures { get; }
        /// <summary>Added to the variance before the square root (default 1e-5).</summary>
        public double Eps { get; set; } = 1e-5;
        /// <summary>Weight of the new batch statistics in the running statistics (default 0.1).</summary>
        public double Momentum { get; set; } = 0.1;
        /// <summary>Whether the layer has a learnable per-channel scale and shift (default true).</summary>
        public bool Affine { get; set; } = true;
    }

    /// <summary>
    /// Average over each channel's whole plane, as PyTorch's <c>nn.AdaptiveAvgPool2d(1)</c>: [C, H, W] → [C, 1, 1].
    /// Add <c>[Flatten]</c> before a <c>Linear</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GlobalAvgPool2dAttribute : LayerAttribute { }

    /// <summary>
    /// Adaptive average pooling, as PyTorch's <c>nn.AdaptiveAvgPool2d(output_size)</c>. CnnGen compiles
    /// output size 1 (global average pooling): [C, H, W] → [C, 1, 1].
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AdaptiveAvgPool2dAttribute : LayerAttribute
    {
        /// <summary>Declares adaptive average pooling to <paramref name="outputSize"/>×<paramref name="outputSize"/>.</summary>
        public AdaptiveAvgPool2dAttribute(int outputSize) { OutputSize = outputSize; }
        /// <summary>Output height and width (only 1 is supported).</summary>
        public int OutputSize { get; }
    }

    /// <summary>ReLU capped at 6, as PyTorch's <c>nn.ReLU6()</c>: min(max(x, 0), 6).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLU6Attribute : LayerAttribute { }

    /// <summary>Sigmoid-weighted linear unit (Swish), as PyTorch's <c>nn.SiLU()</c>: x·sigmoid(x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SiLUAttribute : LayerAttribute { }

    /// <summary>
    /// Swish, x·sigmoid(x): another name for <see cref="SiLUAttribute"/> (the same layer; summaries name it <c>SiLU</c>, as
    /// torchsummary names PyTorch's <c>nn.SiLU()</c>).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SwishAttribute : LayerAttribute { }

    /// <summary>Passes its input through unchanged, as PyTorch's <c>nn.Identity()</c> (a summary row, no code in inference).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class IdentityAttribute : LayerAttribute { }

    // ---- issue 6: blocks, residual connections, squeeze-excitation ------------------------------------

    /// <summary>
    /// Marks a <c>partial class</c> as a reusable block: its layer attributes run top to bottom like a model's, and
    /// it is used by <see cref="ResidualAttribute"/> (as the residual branch or the shortcut) or
    /// <see cref="SequentialAttribute"/> (inlined), in a model or in another block. A block has no input shape of its
    /// own: its shapes are checked where it is used. Nothing is generated for the class itself.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BlockAttribute : Attribute
    {
        /// <summary>
        /// The PyTorch module class this block stands for when it is a residual branch, as summaries name the
        /// residual (<c>"BasicBlock"</c> gives rows <c>BasicBlock-11</c>); default: the class name.
        /// </summary>
        public string? ModuleName { get; set; }
    }

    /// <summary>
    /// A residual connection: <c>y = block(x) + x</c>, or <c>y = block(x) + shortcut(x)</c> with a
    /// <see cref="Shortcut"/> block (a projection such as a 1×1 <c>Conv2d</c> with stride 2 and a <c>BatchNorm2d</c>),
    /// then ReLU when <see cref="ReLU"/> is set — torchvision's BasicBlock and Bottleneck. Safetensors keys: the
    /// block's layers under <c>{Name}.</c>, the shortcut's under <c>{Name}.{ShortcutName}.</c>
    /// (<c>layer2.0.conv1.weight</c>, <c>layer2.0.downsample.0.weight</c>).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ResidualAttribute : LayerAttribute
    {
        /// <summary>Declares a residual connection around the layers of the <c>[Block]</c> class <paramref name="block"/>.</summary>
        public ResidualAttribute(Type block) { Block = block; }
        /// <summary>The residual branch: a <c>[Block]</c> class.</summary>
        public Type Block { get; }
        /// <summary>The shortcut branch (a <c>[Block]</c> class); null (the default) for the identity.</summary>
        public Type? Shortcut { get; set; }
        /// <summary>The shortcut's name in the keys (default <c>"downsample"</c>, as torchvision's ResNet).</summary>
        public string ShortcutName { get; set; } = "downsample";
        /// <summary>Whether a ReLU follows the addition inside the residual (torchvision's BasicBlock: <c>relu(out + identity)</c>).</summary>
        public bool ReLU { get; set; }
    }

    /// <summary>
    /// Inlines the layers of a <c>[Block]</c> class, as a nested PyTorch <c>nn.Sequential</c>: keys
    /// <c>{Name}.{position or name in the block}.weight</c>; no summary row of its own.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SequentialAttribute : LayerAttribute
    {
        /// <summary>Inlines the layers of the <c>[Block]</c> class <paramref name="block"/>.</summary>
        public SequentialAttribute(Type block) { Block = block; }
        /// <summary>The <c>[Block]</c> class whose layers run here.</summary>
        public Type Block { get; }
    }

    /// <summary>
    /// Squeeze-and-excitation, as torchvision's <c>SqueezeExcitation(channels, channels / reduction, activation=nn.ReLU,
    /// scale_activation=nn.Sigmoid)</c>: global average pool → 1×1 conv (<c>fc1</c>, channels → channels / reduction) →
    /// <see cref="Activation"/> → 1×1 conv (<c>fc2</c>) → <see cref="ScaleActivation"/> → scales each input channel. Keys <c>{Name}.fc1.weight</c>, <c>{Name}.fc1.bias</c>, <c>{Name}.fc2.weight</c>, <c>{Name}.fc2.bias</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SqueezeExcitationAttribute : LayerAttribute
    {
        /// <summary>Declares squeeze-excitation over <paramref name="channels"/> channels, squeezed by <paramref name="reduction"/>.</summary>
        public SqueezeExcitationAttribute(int channels, int reduction) { Channels = channels; Reduction = reduction; }
        /// <summary>Input (and output) channels.</summary>
        public int Channels { get; }
        /// <summary>Squeeze factor: the bottleneck has channels / reduction channels; must divide the channels.</summary>
        public int Reduction { get; }
        /// <summary>
        /// The bottleneck's channels, overriding channels / reduction (torchvision's <c>squeeze_channels</c>; EfficientNet
        /// squeezes to a quarter of the block's input channels). 0 (the default): channels / reduction.
        /// </summary>
        public int SqueezeChannels { get; set; }
        /// <summary>The activation after fc1 (PyTorch's <c>activation=</c>), by Keras' name: "relu" (default), "silu" (EfficientNet), ...</summary>
        public string Activation { get; set; } = "relu";
        /// <summary>The gate after fc2 (PyTorch's <c>scale_activation=</c>), by Keras' name: "sigmoid" (default), ...</summary>
        public string ScaleActivation { get; set; } = "sigmoid";
    }
}
