using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace CnnGen
{
    /// <summary>Facts about the CnnGen runtime.</summary>
    public static class RuntimeInfo
    {
        /// <summary>The runtime's version.</summary>
        public const string Version = "0.1.0";

        /// <summary>Set to <c>1</c> to silence the warning of <see cref="CheckInstructionSet"/>.</summary>
        public const string AllowBaselineVariable = "CNNGEN_ALLOW_BASELINE_ISA";

        private static int s_checked;

        /// <summary>
        /// Called by every generated model constructor; does its work once per process. In a Native AOT x64 binary
        /// whose <c>Vector256</c> is not hardware accelerated (published without AVX2, e.g. with
        /// <c>IlcInstructionSet</c> set to a baseline level), the kernels would silently run 128-bit code at a
        /// fraction of the speed: this writes one warning to standard error saying so and how to rebuild.
        /// JIT processes use the CPU they run on and are never warned. A binary built for an instruction set the CPU
        /// lacks never gets here: the .NET runtime stops it at start-up with "The required instruction sets are not
        /// supported by the current CPU.".
        /// </summary>
        public static void CheckInstructionSet()
        {
            if (Volatile.Read(ref s_checked) != 0 || Interlocked.Exchange(ref s_checked, 1) != 0)
                return;
            string? warning = InstructionSetWarning(
                aot: !RuntimeFeature.IsDynamicCodeCompiled,
                x64: RuntimeInformation.ProcessArchitecture == Architecture.X64,
                vector256: Vector256.IsHardwareAccelerated,
                cpuHasAvx2: CpuHasAvx2(),
                allowBaseline: Environment.GetEnvironmentVariable(AllowBaselineVariable));
            if (warning is not null)
                Console.Error.WriteLine(warning);
        }

        /// <summary>The warning <see cref="CheckInstructionSet"/> writes for these facts, or null when there is nothing to say.</summary>
        internal static string? InstructionSetWarning(bool aot, bool x64, bool vector256, bool cpuHasAvx2, string? allowBaseline)
        {
            if (!aot || !x64 || vector256 || allowBaseline == "1")
                return null;
            string cpu = cpuHasAvx2
                ? "This CPU has AVX2, but the binary was compiled without it"
                : "This CPU has no AVX2 either";
            return "CnnGen: warning: this Native AOT binary was compiled without AVX2 (Vector256.IsHardwareAccelerated is false), " +
                   "so the model kernels run 128-bit code, several times slower. " + cpu + ". " +
                   "Publish with the CnnGen default (IlcInstructionSet=x86-64-v3) or -p:IlcInstructionSet=native to use it; " +
                   "set " + AllowBaselineVariable + "=1 to silence this warning.";
        }

        /// <summary>Whether the CPU reports AVX2 (CPUID leaf 7, EBX bit 5), whatever the binary was compiled for.</summary>
        private static bool CpuHasAvx2()
        {
            if (!X86Base.IsSupported)
                return false;
            (int maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
            if (maxLeaf < 7)
                return false;
            (_, int ebx, _, _) = X86Base.CpuId(7, 0);
            return (ebx & (1 << 5)) != 0;
        }
    }
}
