using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Buffers for generated code, aligned to 64 bytes (a cache line, one Vector512). Arrays from the GC start at an
    /// arbitrary 8-byte offset, so vector loads would straddle cache lines in some runs and not in others; these
    /// arrays are pinned (they never move) and over-allocated by 16 floats, and <see cref="Align"/> finds the aligned start.
    /// </summary>
    public static unsafe class AlignedMemory
    {
        /// <summary>Floats of slack that make room for the alignment.</summary>
        public const int Slack = 16;

        /// <summary>A pinned array of at least <paramref name="length"/> usable floats after <see cref="Align"/>.</summary>
        public static float[] Allocate(long length)
        {
            if (length < 0 || length + Slack > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(length), length, "buffer larger than an array can hold");
            return GC.AllocateArray<float>((int)length + Slack, pinned: true);
        }

        /// <summary>
        /// A kernel's scratch of at least <paramref name="length"/> floats, 64-byte aligned: <paramref name="buffer"/> (a
        /// thread-static field) reused, or replaced by a larger one when it is missing or too small. The array is pinned and
        /// held by the field, so the pointer stays valid until the next call that grows it.
        /// </summary>
        public static float* Scratch(ref float[]? buffer, long length)
        {
            if (buffer is null || buffer.Length < length + Slack) buffer = Allocate(length);
            return Align((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)));
        }

        /// <summary>The first 64-byte-aligned address at or after <paramref name="p"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
    }
}
