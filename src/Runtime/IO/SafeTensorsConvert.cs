using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.IO;

/// <summary>Element sizes, shapes and the conversions between stored dtypes and floats.</summary>
public static partial class SafeTensors
{
    /// <summary>The size in bytes of one element of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.BOOL or SafeTensorDType.U8 or SafeTensorDType.I8 => 1,
        SafeTensorDType.U16 or SafeTensorDType.I16 or SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.U32 or SafeTensorDType.I32 or SafeTensorDType.F32 => 4,
        SafeTensorDType.U64 or SafeTensorDType.I64 or SafeTensorDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    internal static int ElementCount(int[] shape)
    {
        int n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"Shape {ShapeText(shape)} has a negative dimension.");
            n = checked(n * d);
        }
        return n;
    }

    internal static string ShapeText(IReadOnlyList<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    internal static float[] ToFloat(SafeTensorDType dtype, byte[] raw)
    {
        var result = new float[raw.Length / ElementSize(dtype)];
        ToFloat(dtype, raw, result);
        return result;
    }

    /// <summary>Converts stored little-endian values of <paramref name="dtype"/> to floats (integers by value; 64-bit values may round).</summary>
    /// <param name="dtype">The stored type.</param>
    /// <param name="raw">ElementSize(dtype) bytes per value.</param>
    /// <param name="destination">One float per value.</param>
    public static void ToFloat(SafeTensorDType dtype, ReadOnlySpan<byte> raw, Span<float> destination)
    {
        int size = ElementSize(dtype);
        int n = raw.Length / size;
        if (destination.Length < n)
            throw new ArgumentException($"{n} values do not fit in {destination.Length} floats.", nameof(destination));
        for (int i = 0; i < n; i++)
            destination[i] = ReadOne(dtype, raw.Slice(i * size, size));
    }

    /// <summary>One stored little-endian value of <paramref name="dtype"/> as a float.</summary>
    internal static float ReadOne(SafeTensorDType dtype, ReadOnlySpan<byte> b) => dtype switch
    {
        SafeTensorDType.BOOL => b[0] != 0 ? 1f : 0f,
        SafeTensorDType.U8 => b[0],
        SafeTensorDType.I8 => (sbyte)b[0],
        SafeTensorDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        SafeTensorDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        SafeTensorDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
        SafeTensorDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
        SafeTensorDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        SafeTensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        SafeTensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(b),
        SafeTensorDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
        SafeTensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b),
        SafeTensorDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>
    /// The first value of a stored tensor that is NaN or infinite as a float (an F64 beyond the float range included), or -1.
    /// Integer and boolean dtypes are always finite.
    /// </summary>
    internal static int FirstNonFinite(SafeTensorDType dtype, ReadOnlySpan<byte> raw, out float value)
    {
        value = 0;
        if (dtype is not (SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.F32 or SafeTensorDType.F64))
            return -1;
        int size = ElementSize(dtype);
        int n = raw.Length / size;
        for (int i = 0; i < n; i++)
        {
            float v = ReadOne(dtype, raw.Slice(i * size, size));
            if (!float.IsFinite(v))
            {
                value = v;
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Stores <paramref name="value"/> as one little-endian <paramref name="dtype"/> value: floats by IEEE rounding (BF16 rounds to
    /// nearest even), integers rounded to nearest and saturated to the type's range, BOOL as value != 0.
    /// </summary>
    /// <param name="dtype">The stored type.</param>
    /// <param name="value">The value.</param>
    /// <param name="destination">At least ElementSize(dtype) bytes.</param>
    public static void FromFloat(SafeTensorDType dtype, float value, Span<byte> destination)
    {
        double r = Math.Round((double)value, MidpointRounding.ToEven);
        switch (dtype)
        {
            case SafeTensorDType.F32: BinaryPrimitives.WriteSingleLittleEndian(destination, value); break;
            case SafeTensorDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(destination, value); break;
            case SafeTensorDType.F16: BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value); break;
            case SafeTensorDType.BF16:
                {
                    uint bits = BitConverter.SingleToUInt32Bits(value);
                    ushort top = float.IsNaN(value) ? (ushort)((bits >> 16) | 0x40) : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
                    BinaryPrimitives.WriteUInt16LittleEndian(destination, top);
                    break;
                }
            case SafeTensorDType.BOOL: destination[0] = value != 0 ? (byte)1 : (byte)0; break;
            case SafeTensorDType.U8: destination[0] = (byte)Math.Clamp(r, byte.MinValue, byte.MaxValue); break;
            case SafeTensorDType.I8: destination[0] = (byte)(sbyte)Math.Clamp(r, sbyte.MinValue, sbyte.MaxValue); break;
            case SafeTensorDType.U16: BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)Math.Clamp(r, ushort.MinValue, ushort.MaxValue)); break;
            case SafeTensorDType.I16: BinaryPrimitives.WriteInt16LittleEndian(destination, (short)Math.Clamp(r, short.MinValue, short.MaxValue)); break;
            case SafeTensorDType.U32: BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Math.Clamp(r, uint.MinValue, uint.MaxValue)); break;
            case SafeTensorDType.I32: BinaryPrimitives.WriteInt32LittleEndian(destination, (int)Math.Clamp(r, int.MinValue, int.MaxValue)); break;
            // (double)ulong.MaxValue and (double)long.MaxValue round up past the range, so saturate explicitly.
            case SafeTensorDType.U64: BinaryPrimitives.WriteUInt64LittleEndian(destination, r <= 0 || double.IsNaN(r) ? 0UL : r >= 18446744073709551615.0 ? ulong.MaxValue : (ulong)r); break;
            case SafeTensorDType.I64: BinaryPrimitives.WriteInt64LittleEndian(destination, double.IsNaN(r) ? 0L : r >= 9223372036854775807.0 ? long.MaxValue : r <= -9223372036854775808.0 ? long.MinValue : (long)r); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }
}
