using System;

namespace CnnGen
{
    /// <summary>
    /// PyTorch's functional ops (<c>torch.nn.functional</c>, imported as <c>F</c>), for models whose <c>forward</c> applies
    /// <c>F.relu</c>, <c>F.max_pool2d</c> or <c>F.dropout</c> between modules: <c>[F.ReLU]</c>, <c>[F.MaxPool2d(2)]</c>,
    /// <c>[F.Dropout(0.5)]</c>. Each computes exactly like the layer of the same name, but is not a module: it gets no
    /// torchsummary row and no row number, it does not count as a position in the safetensors keys (the next layer's
    /// key index is the one it would have had without the op), and Keras' summary shows no row for it either.
    /// In diagnostics and the generated shape table it is named by its function and a running number of its own:
    /// <c>F.relu-f1</c>, <c>F.max_pool2d-f2</c>, ...
    /// </summary>
    public static class F
    {
        /// <summary><c>F.relu(x)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class ReLUAttribute : LayerAttribute { }

        /// <summary><c>F.relu6(x)</c>: min(max(x, 0), 6).</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class ReLU6Attribute : LayerAttribute { }

        /// <summary><c>F.leaky_relu(x, negative_slope=0.01)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class LeakyReLUAttribute : LayerAttribute
        {
            /// <summary>Declares a leaky ReLU with the given slope for negative inputs.</summary>
            public LeakyReLUAttribute(double negativeSlope = 0.01) { NegativeSlope = negativeSlope; }
            /// <summary>Slope for negative inputs.</summary>
            public double NegativeSlope { get; }
        }

        /// <summary><c>F.elu(x, alpha=1.0)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class ELUAttribute : LayerAttribute
        {
            /// <summary>Declares an ELU.</summary>
            public ELUAttribute(double alpha = 1.0) { Alpha = alpha; }
            /// <summary>Saturation value for negative inputs.</summary>
            public double Alpha { get; }
        }

        /// <summary><c>torch.sigmoid(x)</c> (<c>F.sigmoid</c>).</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class SigmoidAttribute : LayerAttribute { }

        /// <summary><c>torch.tanh(x)</c> (<c>F.tanh</c>).</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class TanhAttribute : LayerAttribute { }

        /// <summary><c>F.silu(x)</c>: x·sigmoid(x).</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class SiLUAttribute : LayerAttribute { }

        /// <summary><c>F.softmax(x, dim=1)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class SoftmaxAttribute : LayerAttribute { }

        /// <summary><c>F.log_softmax(x, dim=1)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class LogSoftmaxAttribute : LayerAttribute { }

        /// <summary><c>F.max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1)</c>; arguments as <see cref="MaxPool2dAttribute"/>.</summary>
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

        /// <summary><c>F.avg_pool2d(x, kernel_size, stride=None, padding=0)</c>; arguments as <see cref="AvgPool2dAttribute"/>.</summary>
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

        /// <summary><c>F.adaptive_avg_pool2d(x, output_size)</c>; CnnGen compiles output size 1.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class AdaptiveAvgPool2dAttribute : LayerAttribute
        {
            /// <summary>Declares adaptive average pooling to <paramref name="outputSize"/>×<paramref name="outputSize"/>.</summary>
            public AdaptiveAvgPool2dAttribute(int outputSize) { OutputSize = outputSize; }
            /// <summary>Output height and width (only 1 is supported).</summary>
            public int OutputSize { get; }
        }

        /// <summary><c>F.dropout(x, p=0.5, training=self.training)</c>.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class DropoutAttribute : LayerAttribute
        {
            /// <summary>Declares dropout with drop probability <paramref name="p"/> in [0, 1).</summary>
            public DropoutAttribute(double p = 0.5) { P = p; }
            /// <summary>Drop probability.</summary>
            public double P { get; }
        }

        /// <summary><c>F.dropout2d(x, p=0.5, training=self.training)</c>: whole channels.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class Dropout2dAttribute : LayerAttribute
        {
            /// <summary>Declares channel dropout with drop probability <paramref name="p"/> in [0, 1).</summary>
            public Dropout2dAttribute(double p = 0.5) { P = p; }
            /// <summary>Drop probability.</summary>
            public double P { get; }
        }

        /// <summary><c>torch.flatten(x, 1)</c> (or <c>x.view(-1, n)</c>): a free reshape that, unlike <c>[Flatten]</c>, takes no key position.</summary>
        [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
        public sealed class FlattenAttribute : LayerAttribute { }
    }
}
