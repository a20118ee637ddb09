using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace CnnGen
{
    /// <summary>Facts about the CnnGen runtime.</summary>
    public static class RuntimeInfo
    {
        /// <summary>The runtime's version: the CnnGen package version (from git, docs/building.md "Versions").</summary>
        public const string Version = BuildVersion.Value;

        /// <summary>Set to <c>1</c> to silence the warning of <see cref="CheckInstructionSet"/>.</summary>
        public const string AllowBaselineVariable = "CNNGEN_ALLOW_BASELINE_ISA";

        private static int s_checked;

        /// <summary>
        /// Called by every generated model constructor; does its work once per process. When the CPU has AVX2 but
        /// <c>Vector256</c> is not hardware accelerated, the binary was compiled without AVX2 (a Native AOT publish
        /// with <c>IlcInstructionSet</c> set to a baseline level or <c>CnnGenDefaultIlcInstructionSet</c> emptied, or
        /// a JIT run with <c>DOTNET_EnableAVX2=0</c>) and the kernels would silently run 128-bit code at a fraction of
        /// the speed: this writes one warning to standard error saying so and how to rebuild
        /// (<see cref="AllowBaselineVariable"/>=1 silences it). A binary built for an instruction set the CPU lacks
        /// never gets here: the .NET runtime stops it at start-up with "The required instruction sets are not
        /// supported by the current CPU.".
        /// </summary>
        public static void CheckInstructionSet()
        {
            if (Volatile.Read(ref s_checked) != 0 || Interlocked.Exchange(ref s_checked, 1) != 0)
                return;
            string? warning = InstructionSetWarning(
                x64: RuntimeInformation.ProcessArchitecture == Architecture.X64,
                vector256: Vector256.IsHardwareAccelerated,
                cpuHasAvx2: CpuHasAvx2(),
                allowBaseline: Environment.GetEnvironmentVariable(AllowBaselineVariable));
            if (warning is not null)
                Console.Error.WriteLine(warning);
        }

        /// <summary>The warning <see cref="CheckInstructionSet"/> writes for these facts, or null when there is nothing to say.</summary>
        internal static string? InstructionSetWarning(bool x64, bool vector256, bool cpuHasAvx2, string? allowBaseline)
        {
            if (!x64 || vector256 || !cpuHasAvx2 || allowBaseline == "1")
                return null;
            return "CnnGen: warning: this CPU has AVX2, but this binary was compiled without it (Vector256.IsHardwareAccelerated is false), " +
                   "so the model kernels run 128-bit code, several times slower. " +
                   "Publish Native AOT with the CnnGen default (IlcInstructionSet=x86-64-v3) or -p:IlcInstructionSet=native; " +
                   "set " + AllowBaselineVariable + "=1 to silence this warning.";
        }

        /// <summary>Whether the CPU reports AVX2 (CPUID leaf 7, EBX bit 5), whatever the binary was compiled for.</summary>
        private static bool CpuHasAvx2() => (CpuIdLeaf7Ebx() & (1 << 5)) != 0;

        /// <summary>
        /// CPUID leaf 7 (subleaf 0) EBX, the extended-feature bits (AVX2, AVX-512 subsets, ...), whatever the binary was
        /// compiled for; 0 when the CPU is not x86, has no leaf 7, or lacks AVX with the OS saving its registers (leaf 1,
        /// ECX bits 28 and 27: OSXSAVE), since none of those features is usable then.
        /// </summary>
        internal static int CpuIdLeaf7Ebx()
        {
            if (!X86Base.IsSupported)
                return 0;
            (int maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
            if (maxLeaf < 7)
                return 0;
            (_, _, int ecx1, _) = X86Base.CpuId(1, 0);
            if ((ecx1 & (1 << 27)) == 0 || (ecx1 & (1 << 28)) == 0)
                return 0;
            (_, int ebx, _, _) = X86Base.CpuId(7, 0);
            return ebx;
        }
    }
}
