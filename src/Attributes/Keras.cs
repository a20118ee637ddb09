using System;

namespace CnnGen.Keras
{
    // Keras' own layer names (keras.layers), for models written line for line from a Keras tutorial. They compile to the
    // same layers as the PyTorch-named attributes in CnnGen (Conv2D is Conv2d, Dense is Linear, ...): the summaries,
    // keys and code are those of the PyTorch form. Flatten and Dropout are not repeated here: CnnGen's [Flatten] and
    // [Dropout(rate)] already carry Keras' names and arguments (a second class of the same name would make them ambiguous
    // with `using CnnGen;`). Shapes stay channels first ([Input(channels, height, width)]); KerasSummary() prints them
    // channels last, as Keras does.

    /// <summary>
    /// Keras' <c>Conv2D(filters, kernel_size, strides=1, padding='valid', dilation_rate=1, groups=1, activation=None, use_bias=True)</c>:
    /// PyTorch's <c>Conv2d</c> with the input channels taken from the incoming shape.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2DAttribute : LayerAttribute
    {
        /// <summary>Declares a convolution with <paramref name="filters"/> output channels and a square kernel.</summary>
        public Conv2DAttribute(int filters, int kernelSize) { Filters = filters; KernelHeight = KernelWidth = kernelSize; }
        /// <summary>Declares a convolution with a <paramref name="kernelHeight"/>×<paramref name="kernelWidth"/> kernel (Keras' <c>kernel_size=(h, w)</c>).</summary>
        public Conv2DAttribute(int filters, int kernelHeight, int kernelWidth) { Filters = filters; KernelHeight = kernelHeight; KernelWidth = kernelWidth; }
        /// <summary>Output channels.</summary>
        public int Filters { get; }
        /// <summary>Kernel height.</summary>
        public int KernelHeight { get; }
        /// <summary>Kernel width.</summary>
        public int KernelWidth { get; }
        /// <summary>Stride in both dimensions (default 1).</summary>
        public int Strides { get; set; } = 1;
        /// <summary>"valid" (default: no padding) or "same" (output as large as the input; odd kernels only).</summary>
        public string Padding { get; set; } = "valid";
        /// <summary>Spacing between kernel taps (default 1).</summary>
        public int DilationRate { get; set; } = 1;
        /// <summary>Blocked connections from input to output channels (default 1).</summary>
        public int Groups { get; set; } = 1;
        /// <summary>Whether the layer has a bias (default true).</summary>
        public bool UseBias { get; set; } = true;
        /// <summary>An activation applied to the output, by Keras' name ("relu", "sigmoid", ...); see <c>Conv2dAttribute.Activation</c>.</summary>
        public string? Activation { get; set; }
    }

    /// <summary>Keras' <c>Dense(units, activation=None, use_bias=True)</c>: PyTorch's <c>Linear</c> with the input features taken from the incoming shape.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DenseAttribute : LayerAttribute
    {
        /// <summary>Declares a fully connected layer with <paramref name="units"/> outputs.</summary>
        public DenseAttribute(int units) { Units = units; }
        /// <summary>Output features.</summary>
        public int Units { get; }
        /// <summary>Whether the layer has a bias (default true).</summary>
        public bool UseBias { get; set; } = true;
        /// <summary>An activation applied to the output, by Keras' name ("relu", "softmax", ...); see <c>LinearAttribute.Activation</c>.</summary>
        public string? Activation { get; set; }
    }

    /// <summary>Keras' <c>MaxPooling2D(pool_size=2, strides=None, padding='valid')</c>: PyTorch's <c>MaxPool2d</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxPooling2DAttribute : LayerAttribute
    {
        /// <summary>Declares a square max-pooling window.</summary>
        public MaxPooling2DAttribute(int poolSize = 2) { PoolSize = poolSize; }
        /// <summary>Square window size.</summary>
        public int PoolSize { get; }
        /// <summary>Stride (default: the pool size).</summary>
        public int Strides { get; set; }
        /// <summary>"valid" (default) or "same" (stride 1 and odd windows only).</summary>
        public string Padding { get; set; } = "valid";
    }

    /// <summary>Keras' <c>AveragePooling2D(pool_size=2, strides=None, padding='valid')</c>: PyTorch's <c>AvgPool2d</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AveragePooling2DAttribute : LayerAttribute
    {
        /// <summary>Declares a square average-pooling window.</summary>
        public AveragePooling2DAttribute(int poolSize = 2) { PoolSize = poolSize; }
        /// <summary>Square window size.</summary>
        public int PoolSize { get; }
        /// <summary>Stride (default: the pool size).</summary>
        public int Strides { get; set; }
        /// <summary>"valid" (default) or "same" (stride 1 and odd windows only).</summary>
        public string Padding { get; set; } = "valid";
    }

    /// <summary>
    /// Keras' <c>GlobalAveragePooling2D()</c>: the mean of each channel, [C, H, W] → [C] (flat, as Keras gives it, so a
    /// <c>Dense</c> can follow). torchsummary shows it as <c>AdaptiveAvgPool2d</c> [C, 1, 1]; the flatten is free.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GlobalAveragePooling2DAttribute : LayerAttribute { }
}
