// swift-tools-version:6.0
// Sightline: an observability-first proxy for the OpenAI Responses API.
// No Swift package dependencies: Foundation, Dispatch, Glibc, Synchronization and system C libraries only.
import PackageDescription

let package = Package(
    name: "Sightline",
    products: [
        .executable(name: "sightline", targets: ["sightline"])
    ],
    targets: [
        // System libraries and our own C shims.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "CSightlineSys"),

        // Libraries that know nothing of proxies.
        .target(name: "LogRedaction", dependencies: ["CZlib", "CSightlineSys"]),
        .target(name: "Metrics", dependencies: ["CZlib"]),

        // Wire-level building blocks shared by the proxy and the simulator.
        .target(name: "WireFormats", dependencies: ["CZstd"]),
        .target(name: "HTTPServer", dependencies: ["CSightlineSys", "LogRedaction"]),

        // The simulator of the Codex backend and the proxy itself.
        .target(
            name: "CodexSimulator",
            dependencies: ["HTTPServer", "WireFormats", "Metrics", "LogRedaction"]
        ),
        .target(
            name: "Proxy",
            dependencies: ["CCurl", "CZlib", "CSightlineSys", "HTTPServer", "WireFormats", "Metrics", "LogRedaction"]
        ),
        .executableTarget(name: "sightline", dependencies: ["Proxy", "CodexSimulator", "Metrics", "LogRedaction"]),
        // The benchmark's load client and micro-benchmarks (bench/run.sh); not part of the product.
        .executableTarget(
            name: "sightline-bench",
            dependencies: ["Metrics", "LogRedaction", "WireFormats", "HTTPServer", "CSightlineSys", "Proxy"],
            path: "bench/Sources/sightline-bench"
        ),

        // Test helpers shared by several test targets (a library, so it is written once).
        .target(name: "SightlineTestSupport", dependencies: ["HTTPServer"], path: "Tests/Support/SightlineTestSupport"),

        .testTarget(name: "LogRedactionTests", dependencies: ["LogRedaction", "SightlineTestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "CZlib"], resources: [.copy("Golden")]),
        .testTarget(name: "WireFormatsTests", dependencies: ["WireFormats", "SightlineTestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CSightlineSys", "SightlineTestSupport"]),
        .testTarget(
            name: "CodexSimulatorTests",
            dependencies: ["CodexSimulator", "HTTPServer", "WireFormats", "SightlineTestSupport"]
        ),
        .testTarget(
            name: "ProxyTests",
            dependencies: [
                "Proxy", "CodexSimulator", "HTTPServer", "WireFormats", "Metrics", "LogRedaction",
                "SightlineTestSupport",
            ]
        ),
        // The Python clients under clients/ are run from the source tree by path, not bundled.
        .testTarget(name: "IntegrationTests", dependencies: [], exclude: ["clients", "clockstep"]),
        .testTarget(name: "ArtifactTests", dependencies: []),
    ]
)
