using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NigGen.Benchmarks;

/// <summary>
/// The CPU the benchmarks ran on and the vector width NigGen's kernels used there. Results are kept per machine kind
/// (AVX-512, AVX2 only): the kernels take a different path on each, and a ratio measured on one says little about the
/// other.
/// </summary>
public static class InstructionSet
{
    /// <summary>The widest vector the kernels use: 512, 256 or 128 bits (the runtime's choice, which the DOTNET_PreferredVectorBitWidth and DOTNET_EnableAVX512 variables can narrow).</summary>
    public static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>The machine kind whose results table a run belongs to: "AVX-512" or "AVX2 only" (also an AVX-512 CPU whose .NET was narrowed to 256 bits).</summary>
    public static string MachineKind => VectorBits == 512 ? "AVX-512" : VectorBits == 256 ? "AVX2 only" : "128-bit only";

    /// <summary>Whether .NET uses narrower vectors than the CPU has (an AVX2 run on an AVX-512 CPU); ONNX Runtime then still uses AVX-512.</summary>
    public static bool Narrowed => VectorBits < 512 && CpuFlags().Contains("avx512f");

    /// <summary>What the CPU offers (from /proc/cpuinfo's flags) against what .NET uses, in words.</summary>
    public static string Describe()
    {
        bool cpuAvx512 = CpuFlags().Contains("avx512f");
        string inUse = VectorBits switch
        {
            512 => "AVX-512 (Vector512 kernels)",
            256 => Fma.IsSupported ? "AVX2 + FMA (Vector256 kernels)" : "AVX (Vector256 kernels, no FMA)",
            _ => "SSE/NEON (Vector128 kernels)",
        };

        // ONNX Runtime picks its kernels from CPUID itself: narrowing .NET does not narrow it.
        string narrowed = VectorBits < 512 && cpuAvx512
            ? "; the CPU has AVX-512 but .NET was limited to 256 bits (DOTNET_PreferredVectorBitWidth=256 or DOTNET_EnableAVX512=0), and ONNX Runtime still uses AVX-512"
            : "";
        return $"{CpuModel()}; instructions in use: {inUse}{narrowed}";
    }

    /// <summary>Model name, family and model (virtual machines often report a generic name).</summary>
    public static string CpuModel()
    {
        var fields = CpuInfo();
        if (fields.Count == 0)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }

        string name = fields.GetValueOrDefault("model name", "unknown CPU");
        string family = fields.GetValueOrDefault("cpu family", "?");
        string model = fields.GetValueOrDefault("model", "?");
        string avx512 = CpuFlags().Contains("avx512f") ? ", AVX-512" : CpuFlags().Contains("avx2") ? ", AVX2, no AVX-512" : "";
        return $"{name} (family {family}, model {model}{avx512})";
    }

    private static HashSet<string> CpuFlags() =>
        CpuInfo().TryGetValue("flags", out var flags) ? flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet() : [];

    // The first processor's fields.
    private static Dictionary<string, string> CpuInfo()
    {
        const string path = "/proc/cpuinfo";
        var fields = new Dictionary<string, string>();
        if (!File.Exists(path))
        {
            return fields;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                break;
            }

            int colon = line.IndexOf(':');
            if (colon > 0)
            {
                fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }

        return fields;
    }
}
