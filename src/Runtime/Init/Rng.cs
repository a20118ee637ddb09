using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CnnGen;

/// <summary>
/// A fast deterministic pseudo-random generator: xoshiro256** (Blackman and Vigna) seeded through splitmix64,
/// so every seed, including 0, gives a well-mixed state. The same seed always yields the same sequence on every
/// platform. Not thread-safe and not cryptographic; use one instance per thread (see <see cref="Jump"/> for
/// independent streams).
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>Creates a generator whose whole sequence is determined by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any value.</param>
    public Rng(ulong seed) => Reseed(seed);

    /// <summary>Restarts the generator as if it had just been created with <paramref name="seed"/> (no allocation).</summary>
    /// <param name="seed">Any value.</param>
    public void Reseed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        _hasSpare = false;
    }

    /// <summary>Creates a generator from a signed seed (the seed's two's-complement bits are used).</summary>
    /// <param name="seed">Any value.</param>
    public Rng(int seed) : this(unchecked((ulong)(long)seed)) { }

    private Rng(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
    }

    /// <summary>The number of <see cref="ulong"/> words in the generator's state (for <see cref="GetState"/>).</summary>
    public const int StateWords = 4;

    /// <summary>Copies the generator's position into <paramref name="state"/>, e.g. to store it in a checkpoint.</summary>
    /// <param name="state">At least <see cref="StateWords"/> words.</param>
    /// <remarks>A pending spare normal value (see <see cref="Normal()"/>) is not part of the state and is dropped on restore.</remarks>
    public void GetState(Span<ulong> state)
    {
        if (state.Length < StateWords)
            throw new ArgumentException($"The state needs {StateWords} words.", nameof(state));
        state[0] = _s0; state[1] = _s1; state[2] = _s2; state[3] = _s3;
    }

    /// <summary>Recreates a generator at a position saved by <see cref="GetState"/>.</summary>
    /// <param name="state">Exactly the words <see cref="GetState"/> wrote.</param>
    /// <returns>A generator continuing the saved sequence.</returns>
    public static Rng FromState(ReadOnlySpan<ulong> state)
    {
        if (state.Length < StateWords)
            throw new ArgumentException($"The state needs {StateWords} words.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0)
            throw new ArgumentException("An all-zero state is invalid for xoshiro256**.", nameof(state));
        return new Rng(state[0], state[1], state[2], state[3]);
    }

    /// <summary>The next 64 random bits.</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>The next 32 random bits (the high half of <see cref="NextUInt64"/>, the best-mixed bits).</summary>
    /// <returns>A uniformly distributed 32-bit value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>A float uniformly distributed in [0, 1), with 24 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1u << 24));

    /// <summary>A double uniformly distributed in [0, 1), with 53 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer uniformly distributed in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    /// <param name="maxExclusive">The exclusive upper bound; must be positive.</param>
    /// <returns>A value in [0, maxExclusive).</returns>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "Must be positive.");
        return (int)NextBounded((uint)maxExclusive);
    }

    /// <summary>An integer uniformly distributed in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    /// <param name="minInclusive">The smallest possible value.</param>
    /// <param name="maxExclusive">One more than the largest possible value; must exceed <paramref name="minInclusive"/>.</param>
    /// <returns>A value in the range.</returns>
    public int NextInt(int minInclusive, int maxExclusive)
    {
        if (maxExclusive <= minInclusive)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, $"Must exceed {minInclusive}.");
        return (int)(minInclusive + (long)NextBounded((uint)((long)maxExclusive - minInclusive)));
    }

    private uint NextBounded(uint range)
    {
        ulong m = (ulong)NextUInt32() * range;
        uint low = (uint)m;
        if (low < range)
        {
            uint threshold = (0u - range) % range;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * range;
                low = (uint)m;
            }
        }
        return (uint)(m >> 32);
    }

    /// <summary>A float uniformly distributed in [<paramref name="lo"/>, <paramref name="hi"/>) (as PyTorch's <c>uniform_(lo, hi)</c>).</summary>
    /// <param name="lo">The inclusive lower bound.</param>
    /// <param name="hi">The exclusive upper bound; must be at least <paramref name="lo"/>.</param>
    /// <returns>A value in [lo, hi), or lo when lo equals hi.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Uniform(float lo, float hi)
    {
        float v = (float)(lo + ((double)hi - lo) * NextDouble());
        // Rounding to float can land exactly on hi; keep the interval half-open.
        return v < hi ? v : (lo < hi ? MathF.BitDecrement(hi) : lo);
    }

    /// <summary>A standard normal sample (mean 0, variance 1), by the Box-Muller transform (two samples per pair of uniforms).</summary>
    /// <returns>A normally distributed value.</returns>
    public double Normal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }
        double u1;
        do { u1 = NextDouble(); } while (u1 == 0.0);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double theta = 2.0 * Math.PI * u2;
        _spareNormal = r * Math.Sin(theta);
        _hasSpare = true;
        return r * Math.Cos(theta);
    }

    /// <summary>A normal sample with the given mean and standard deviation.</summary>
    /// <param name="mean">The mean.</param>
    /// <param name="std">The standard deviation.</param>
    /// <returns>A normally distributed value.</returns>
    public float Normal(float mean, float std) => (float)(mean + std * Normal());

    /// <summary>True with probability <paramref name="p"/>.</summary>
    /// <param name="p">The probability of true, in [0, 1].</param>
    /// <returns>A Bernoulli(p) sample.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher-Yates), every permutation equally likely.</summary>
    /// <param name="values">The values to permute.</param>
    public void Shuffle(Span<int> values) => Shuffle<int>(values);

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher-Yates), every permutation equally likely.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The values to permute.</param>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = (int)NextBounded((uint)i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>
    /// Advances this generator by 2^128 steps and returns a copy of its position before the jump, so the two are
    /// non-overlapping streams (for per-thread generators derived from one seed).
    /// </summary>
    /// <returns>A generator continuing from this one's previous position.</returns>
    public Rng Jump()
    {
        var copy = new Rng(_s0, _s1, _s2, _s3);
        ReadOnlySpan<ulong> jump = [0x180ec6d33cfd0abaUL, 0xd5a61266f0c9392cUL, 0xa9582618e03fc9aaUL, 0x39abdc4529b1661cUL];
        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        foreach (ulong word in jump)
        {
            for (int b = 0; b < 64; b++)
            {
                if ((word & (1UL << b)) != 0)
                {
                    s0 ^= _s0; s1 ^= _s1; s2 ^= _s2; s3 ^= _s3;
                }
                NextUInt64();
            }
        }
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        _hasSpare = false;
        return copy;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
