// swift-tools-version:6.0
import PackageDescription

// Every target is built for the machine it runs on: without -target-cpu, Swift emits
// baseline x86-64 code where FMA on SIMD lanes becomes a library call per lane
// (about 50x slower; see ../shared/design/platform-notes.md).
let nativeCPU: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"]),
]
// Numerical layers also drop exclusivity checks in release builds.
let numerics: [SwiftSetting] = nativeCPU + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "persona",
    products: [
        .executable(name: "persona", targets: ["persona"]),
    ],
    targets: [
        // System libraries (Debian: libsqlite3-dev, libedit-dev, libopenblas-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // One header: a prefetch hint for the decoding kernels (no library behind it).
        .systemLibrary(name: "CPrefetch"),
        // One header: the CPU's features (cpuid) and those the build was compiled for.
        .systemLibrary(name: "CCPUFeatures"),

        // Layers, bottom up. Arrows point one way; nothing but the executable imports PersonaSession.
        .target(name: "PersonaCore", swiftSettings: nativeCPU),
        .target(name: "PersonaTensor", dependencies: ["PersonaCore", "COpenBLAS", "CPrefetch", "CCPUFeatures"], swiftSettings: numerics),
        .target(name: "PersonaText", dependencies: ["PersonaCore", "PersonaTensor"], swiftSettings: nativeCPU),
        .target(name: "PersonaStore", dependencies: ["PersonaCore", "CSQLite", "CZlib"], swiftSettings: nativeCPU),
        .target(name: "PersonaData", dependencies: ["PersonaCore", "PersonaStore", "PersonaText"], swiftSettings: nativeCPU),
        .target(name: "PersonaModel", dependencies: ["PersonaCore", "PersonaTensor", "PersonaText", "COpenBLAS"], swiftSettings: numerics),
        .target(name: "PersonaSample", dependencies: ["PersonaCore", "PersonaTensor", "PersonaText", "PersonaModel", "PersonaData"], swiftSettings: numerics),
        .target(name: "PersonaTrain", dependencies: ["PersonaCore", "PersonaTensor", "PersonaStore", "PersonaModel", "PersonaData", "COpenBLAS"], swiftSettings: numerics),
        .target(name: "PersonaInspect", dependencies: ["PersonaCore", "PersonaTensor", "PersonaText", "PersonaModel"], swiftSettings: nativeCPU),
        .target(name: "PersonaEval", dependencies: ["PersonaData", "PersonaSample"], swiftSettings: nativeCPU),
        .target(name: "PersonaSession", dependencies: [
            "PersonaCore", "PersonaTensor", "PersonaText", "PersonaStore", "PersonaData",
            "PersonaModel", "PersonaSample", "PersonaTrain", "PersonaInspect", "PersonaEval", "CEditLine",
        ], swiftSettings: nativeCPU),
        .executableTarget(name: "persona", dependencies: ["PersonaSession"], swiftSettings: nativeCPU),

        // Tests sit beside the layer they test.
        .target(name: "PersonaTestSupport", dependencies: ["PersonaCore", "PersonaTensor", "PersonaText", "PersonaModel"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaCoreTests", dependencies: ["PersonaCore", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaTensorTests", dependencies: ["PersonaTensor", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaTextTests", dependencies: ["PersonaText", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaStoreTests", dependencies: ["PersonaStore", "PersonaTestSupport"], exclude: ["Fixtures"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaDataTests", dependencies: ["PersonaData", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaModelTests", dependencies: ["PersonaModel", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaSampleTests", dependencies: ["PersonaSample", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaTrainTests", dependencies: ["PersonaTrain", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaInspectTests", dependencies: ["PersonaInspect", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaEvalTests", dependencies: ["PersonaEval", "PersonaData", "PersonaSample", "PersonaTestSupport"], swiftSettings: nativeCPU),
        .testTarget(name: "PersonaSessionTests", dependencies: ["PersonaSession", "PersonaTestSupport"], swiftSettings: nativeCPU),
    ],
    swiftLanguageModes: [.v5]
)
