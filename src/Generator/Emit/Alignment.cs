namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// The one alignment rule of every buffer the generated code carves out of a larger one (packed weights, folded
    /// weights, padded inputs, im2col columns, scratch): sizes are rounded up to whole units of 16 floats, 64 bytes, one
    /// cache line and one Vector512, so the next buffer starts aligned.
    /// </summary>
    internal static class Alignment
    {
        /// <summary>Floats per unit.</summary>
        public const int Floats = 16;

        /// <summary><paramref name="floats"/> rounded up to a whole number of units.</summary>
        public static long Up(long floats) => (floats + Floats - 1) / Floats * Floats;
    }
}
