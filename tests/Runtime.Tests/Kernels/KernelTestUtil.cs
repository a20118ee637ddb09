using System;
using System.Runtime.InteropServices;

namespace CnnGen.Runtime.Tests.Kernels;

/// <summary>
/// Unmanaged float buffers with guard zones on both sides filled with a sentinel, so a kernel that reads or writes
/// outside the region it was given is caught (reads of the guard see NaN; writes change the sentinel).
/// </summary>
internal sealed unsafe class GuardedBuffer : IDisposable
{
    public const int Guard = 64;
    private readonly float* _base;

    public GuardedBuffer(int length, float guardValue = float.NaN)
    {
        Length = length;
        GuardValue = guardValue;
        _base = (float*)NativeMemory.AlignedAlloc((nuint)((length + 2 * Guard) * sizeof(float)), 64);
        new Span<float>(_base, length + 2 * Guard).Fill(guardValue);
    }

    public int Length { get; }
    public float GuardValue { get; }
    public float* Ptr => _base + Guard;
    public Span<float> Span => new(Ptr, Length);

    public float this[int i]
    {
        get => Ptr[i];
        set => Ptr[i] = value;
    }

    /// <summary>Both guard zones still hold the sentinel bit pattern.</summary>
    public bool GuardsIntact()
    {
        int want = BitConverter.SingleToInt32Bits(GuardValue);
        for (int i = 0; i < Guard; i++)
        {
            if (BitConverter.SingleToInt32Bits(_base[i]) != want) return false;
            if (BitConverter.SingleToInt32Bits(_base[Guard + Length + i]) != want) return false;
        }
        return true;
    }

    public void Dispose() => NativeMemory.AlignedFree(_base);
}

internal static class KernelRandom
{
    /// <summary>Uniform values in [-1, 1) from a seeded generator.</summary>
    public static void Fill(Span<float> s, Rng rng, float scale = 1f)
    {
        for (int i = 0; i < s.Length; i++) s[i] = rng.Uniform(-scale, scale);
    }
}
