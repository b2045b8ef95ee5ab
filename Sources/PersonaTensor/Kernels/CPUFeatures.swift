import Foundation
import CCPUFeatures

/// The vector extensions this build was compiled for (`-target-cpu native` on the machine that
/// built it) and those of the CPU it runs on. A binary built on an AVX-512 machine and copied
/// to an AVX2-only one would die of an illegal instruction; `unsupportedFeatures` lets the
/// executable refuse with one line first.
public enum CPUFeatures {
    /// The CPU's model name from /proc/cpuinfo (`Intel(R) Xeon(R) Processor`), or the architecture.
    public static let modelName: String = {
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        return "x86-64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown CPU"
        #endif
    }()

    /// What the build targets: `AVX-512 (VNNI)`, `AVX2 + FMA`, or `baseline`.
    public static var buildTarget: String { describe(avx512: persona_built_for_avx512() != 0,
                                                     vnni: persona_built_for_avx512_vnni() != 0,
                                                     avx2: persona_built_for_avx2() != 0) }

    /// What this CPU offers, in the same words.
    public static var cpuSupports: String { describe(avx512: persona_cpu_has_avx512() != 0,
                                                     vnni: persona_cpu_has_avx512_vnni() != 0,
                                                     avx2: persona_cpu_has_avx2() != 0) }

    /// Whether this CPU has AVX2 with FMA and F16C (and the OS saves the ymm registers).
    public static var cpuHasAVX2: Bool { persona_cpu_has_avx2() != 0 }

    /// The widest float vector the kernels use on this build: 16 lanes with AVX-512, 8 with AVX2.
    public static var vectorPath: String {
        persona_built_for_avx512() != 0 ? "AVX-512 (16 float lanes)" : persona_built_for_avx2() != 0 ? "AVX2 (8 float lanes)" : "portable SIMD"
    }

    /// The extensions the build needs that this CPU lacks (empty when it can run).
    public static var unsupportedFeatures: [String] {
        var missing: [String] = []
        if persona_built_for_avx2() != 0, persona_cpu_has_avx2() == 0 { missing.append("AVX2/FMA/F16C") }
        if persona_built_for_avx512() != 0, persona_cpu_has_avx512() == 0 { missing.append("AVX-512 F/BW/DQ/VL") }
        if persona_built_for_avx512_vnni() != 0, persona_cpu_has_avx512_vnni() == 0 { missing.append("AVX-512 VNNI") }
        return missing
    }

    private static func describe(avx512: Bool, vnni: Bool, avx2: Bool) -> String {
        if avx512 { return vnni ? "AVX-512 with VNNI" : "AVX-512" }
        return avx2 ? "AVX2 + FMA" : "baseline (no AVX2)"
    }
}
