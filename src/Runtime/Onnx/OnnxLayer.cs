namespace CnnGen.IO;

/// <summary>
/// One layer of a generated model as <see cref="OnnxExport"/> maps it to ONNX nodes: the layer kind (CnnGen's name,
/// e.g. "Conv2d"), its safetensors key prefix, its per-sample input and output shape ([C, H, W] or [F]) and its arguments.
/// </summary>
/// <remarks>
/// <see cref="Args"/>: kernel height, width, stride height, width, padding height, width, dilation height, width, groups,
/// bias (1 or 0), offset of the layer's parameters in the model's Parameters, offset of its buffers in Buffers (or -1).
/// <see cref="Value"/>: LeakyReLU slope, ELU alpha or BatchNorm2d eps; <see cref="Option"/>: GELU's approximation.
/// </remarks>
public sealed class OnnxLayer
{
    /// <summary>Creates a layer row (the generator emits one per layer).</summary>
    public OnnxLayer(string kind, string key, int[] inShape, int[] outShape, int[] args, double value = 0, string option = "")
    {
        Kind = kind; Key = key; In = inShape; Out = outShape; Args = args; Value = value; Option = option;
    }

    /// <summary>CnnGen's layer kind, e.g. "Conv2d", "BranchBegin".</summary>
    public string Kind { get; }
    /// <summary>The safetensors key prefix, e.g. "layer1.0.conv1".</summary>
    public string Key { get; }
    /// <summary>Input shape of one sample.</summary>
    public int[] In { get; }
    /// <summary>Output shape of one sample.</summary>
    public int[] Out { get; }
    /// <summary>Kind-specific integers (see the remarks).</summary>
    public int[] Args { get; }
    /// <summary>LeakyReLU slope, ELU alpha or BatchNorm2d eps.</summary>
    public double Value { get; }
    /// <summary>GELU's approximation: "none" or "tanh".</summary>
    public string Option { get; }

    internal int KernelH => Args[0];
    internal int KernelW => Args[1];
    internal int StrideH => Args[2];
    internal int StrideW => Args[3];
    internal int PadH => Args[4];
    internal int PadW => Args[5];
    internal int DilationH => Args[6];
    internal int DilationW => Args[7];
    internal int Groups => Args[8];
    internal bool Bias => Args[9] != 0;
    internal int ParamOffset => Args[10];
    internal int BufferOffset => Args[11];
}
