namespace CnnGen
{
    /// <summary>Facts about the CnnGen runtime.</summary>
    public static class RuntimeInfo
    {
        /// <summary>The runtime's version.</summary>
        public const string Version = "0.1.0";
    }
}
