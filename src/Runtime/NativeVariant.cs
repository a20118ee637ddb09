using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace CnnGen
{
    /// <summary>
    /// Native AOT fixes the instruction set at publish time: the CnnGen default (<c>x86-64-v3</c>, AVX2) runs on every
    /// AVX2 CPU but cannot use AVX-512 where it exists, and Vector512 doubles the FMA throughput of the kernels there.
    /// So a Native AOT publish of an x64 executable with the CnnGen default also publishes an <c>x86-64-v4</c> copy
    /// named <c>&lt;executable&gt;-avx512</c> beside it (<c>CnnGenAvx512Variant</c>, see CnnGen.targets), and an
    /// application that calls <see cref="RunBestVariant"/> first thing in <c>Main</c> replaces itself with that copy
    /// when the CPU has AVX-512: one file to run, the fastest code the machine supports.
    /// </summary>
    public static unsafe class NativeVariant
    {
        /// <summary>Suffix of the AVX-512 copy of a published executable.</summary>
        public const string Avx512Suffix = "-avx512";

        /// <summary>Set to <c>1</c> to keep running the binary that was started (no switch to the AVX-512 copy).</summary>
        public const string DisableVariable = "CNNGEN_NO_NATIVE_VARIANT";

        /// <summary>Set by <see cref="RunBestVariant"/> in the environment of the copy it starts (so it never loops).</summary>
        public const string StartedVariable = "CNNGEN_NATIVE_VARIANT";

        /// <summary>
        /// In a Native AOT executable on Linux or macOS that runs without AVX-512 code on a CPU that has AVX-512, and
        /// whose <c>&lt;path&gt;-avx512</c> copy exists beside it: replaces the process with that copy (same arguments,
        /// same environment plus <see cref="StartedVariable"/>=1), so this call does not return. In every other case
        /// (JIT, Windows, no AVX-512, copy missing, <see cref="DisableVariable"/>=1, already the copy, the exec fails) it
        /// returns and the program goes on as it is. Call it before the program does anything else.
        /// </summary>
        public static void RunBestVariant()
        {
            string? target = VariantToRun(
                nativeAot: !RuntimeFeature.IsDynamicCodeSupported,
                unixExec: OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(),
                vector512: Vector512.IsHardwareAccelerated,
                cpuHasAvx512: CpuHasAvx512(),
                processPath: Environment.ProcessPath,
                disabled: Environment.GetEnvironmentVariable(DisableVariable),
                started: Environment.GetEnvironmentVariable(StartedVariable),
                exists: File.Exists);
            if (target is null)
                return;
            string[] args = Environment.GetCommandLineArgs();
            var argv = new List<string> { target };
            for (int i = 1; i < args.Length; i++) argv.Add(args[i]);
            var env = new List<string>();
            foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            {
                if ((string)e.Key != StartedVariable) env.Add($"{e.Key}={e.Value}");
            }
            env.Add(StartedVariable + "=1");
            Exec(target, argv, env); // returns only if execve failed: keep running this binary
        }

        /// <summary>The copy <see cref="RunBestVariant"/> switches to for these facts, or null to stay.</summary>
        internal static string? VariantToRun(bool nativeAot, bool unixExec, bool vector512, bool cpuHasAvx512, string? processPath,
                                             string? disabled, string? started, Func<string, bool> exists)
        {
            if (!nativeAot || !unixExec || vector512 || !cpuHasAvx512 || disabled == "1" || started == "1" || string.IsNullOrEmpty(processPath))
                return null;
            if (processPath.EndsWith(Avx512Suffix, StringComparison.Ordinal))
                return null;
            string candidate = processPath + Avx512Suffix;
            return exists(candidate) ? candidate : null;
        }

        /// <summary>
        /// Whether the CPU reports the AVX-512 subsets an <c>x86-64-v4</c> binary requires (F, CD, BW, DQ, VL: CPUID leaf 7,
        /// EBX bits 16, 28, 30, 17, 31), with AVX enabled by the OS (OSXSAVE), whatever this binary was compiled for.
        /// </summary>
        internal static bool CpuHasAvx512()
        {
            const int need = (1 << 16) | (1 << 17) | (1 << 28) | (1 << 30) | unchecked((int)(1u << 31));
            return (RuntimeInfo.CpuIdLeaf7Ebx() & need) == need;
        }

        private static void Exec(string path, List<string> argv, List<string> env)
        {
            byte* p = Utf8(path);
            byte** a = Utf8Array(argv);
            byte** e = Utf8Array(env);
            execve(p, a, e);
            // Still here: execve failed (errno in Marshal.GetLastPInvokeError()); the program continues in this binary.
        }

        private static byte* Utf8(string s)
        {
            int n = Encoding.UTF8.GetByteCount(s);
            byte* b = (byte*)NativeMemory.Alloc((nuint)n + 1);
            fixed (char* c = s) Encoding.UTF8.GetBytes(c, s.Length, b, n);
            b[n] = 0;
            return b;
        }

        private static byte** Utf8Array(List<string> items)
        {
            byte** a = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
            for (int i = 0; i < items.Count; i++) a[i] = Utf8(items[i]);
            a[items.Count] = null;
            return a;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int execve(byte* path, byte** argv, byte** envp);
    }
}
