using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace CnnGen.Generator.Tests
{
    /// <summary>
    /// Approved-file snapshots in the spirit of Verify: the expected text lives in
    /// Snapshots/&lt;name&gt;.verified.cs beside the tests. On a mismatch the actual text is written to
    /// &lt;name&gt;.received.cs and the test fails. To accept every received file, run the tests once with
    /// CNNGEN_ACCEPT=1 (or: ./build.sh accept).
    /// </summary>
    internal static class Snapshot
    {
        public static void Verify(string actual, string name, [CallerFilePath] string callerFile = "")
        {
            string dir = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
            Directory.CreateDirectory(dir);
            string verified = Path.Combine(dir, name + ".verified.cs");
            string received = Path.Combine(dir, name + ".received.cs");
            actual = WithoutVersion(actual.Replace("\r\n", "\n"));
            bool accept = Environment.GetEnvironmentVariable("CNNGEN_ACCEPT") == "1";
            string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
            if (expected == actual)
            {
                if (File.Exists(received)) File.Delete(received);
                return;
            }
            if (accept)
            {
                File.WriteAllText(verified, actual);
                if (File.Exists(received)) File.Delete(received);
                return;
            }
            File.WriteAllText(received, actual);
            Assert.Fail(expected is null
                ? $"No approved snapshot {verified}. Inspect {received}, then accept it with CNNGEN_ACCEPT=1."
                : $"Generated code differs from {verified}; see {received} (diff them; accept with CNNGEN_ACCEPT=1).\n" + FirstDifference(expected, actual));
        }

        /// <summary>The placeholder the approved files hold where the generated code names the CnnGen version.</summary>
        public const string VersionPlaceholder = "<version>";

        /// <summary>
        /// The generated text with the build's version (<see cref="Emit.ModelEmitter.Version"/>, from git: it changes with
        /// every commit) replaced by <see cref="VersionPlaceholder"/> in the two places the generator writes it, the
        /// header comment and the <c>[GeneratedCode]</c> attribute, so snapshots compare the code, not the commit.
        /// </summary>
        internal static string WithoutVersion(string generated)
        {
            string v = Emit.ModelEmitter.Version;
            return generated
                .Replace($"// CnnGen {v}: ", $"// CnnGen {VersionPlaceholder}: ")
                .Replace($"GeneratedCode(\"CnnGen\", \"{v}\")", $"GeneratedCode(\"CnnGen\", \"{VersionPlaceholder}\")");
        }

        private static string FirstDifference(string expected, string actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
            {
                string el = i < e.Length ? e[i] : "<end>", al = i < a.Length ? a[i] : "<end>";
                if (el != al) return $"line {i + 1}:\n  expected: {el}\n  actual:   {al}";
            }
            return "";
        }
    }
}
