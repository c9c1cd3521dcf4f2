import Foundation

@testable import Proxy

/// libFuzzer target `config`: `ProxyConfiguration.decode` over an arbitrary configuration file, compiled
/// from the two configuration files of the Proxy module only (the rest of Proxy needs libcurl and a server).
///
/// Invariants beyond "does not crash or hang": decoding either throws a `ConfigurationError` or yields a
/// configuration (its account list may be empty: imported accounts come from the state directory) with no
/// duplicate account names, every account holding the credential
/// its kind needs, no base URL ending in `/`, concurrency limits of at least 1, 32-byte client key hashes, ports
/// within 0–65535, no negative size and every duration within 0 … `maximumSettingSeconds`.
/// `FUZZ_KEY` is set in the environment the `…Env` keys resolve against; any other name is missing.
@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Data(bytes: data, count: size)
    let configuration: ProxyConfiguration
    do {
        configuration = try ProxyConfiguration.decode(input, environment: ["FUZZ_KEY": "sk-test-FAKE-fuzz"])
    } catch is ConfigurationError {
        return 0
    } catch {
        fatalError("fuzz invariant violated: decode threw a non-ConfigurationError: \(error)")
    }
    let names = configuration.accounts.map(\.name)
    fuzzInvariant(Set(names).count == names.count, "duplicate account names")
    for account in configuration.accounts {
        fuzzInvariant(!account.baseURL.hasSuffix("/"), "base URL ends in /")
        fuzzInvariant(account.maxConcurrentRequests >= 1, "maxConcurrentRequests < 1")
        switch account.kind {
        case .apikey: fuzzInvariant(account.apiKey != nil, "apikey account without apiKey")
        case .chatgpt:
            fuzzInvariant(account.accessToken != nil && account.accountID != nil, "chatgpt account without token")
        }
    }
    for key in configuration.clientKeys {
        fuzzInvariant(key.sha256.count == 32, "client key hash of \(key.sha256.count) bytes")
    }
    let c = configuration
    fuzzInvariant((0...65_535).contains(c.listen.port), "listen port out of range")
    fuzzInvariant(c.metricsListen.map { (0...65_535).contains($0.port) } ?? true, "metrics port out of range")
    for size in [
        c.eventLoops, c.logMaxBytes, c.logKeepSegments, c.maxHeaderBytes, c.maxBodyBytes, c.transcriptCacheBytes,
    ] {
        fuzzInvariant(size >= 0, "negative size")
    }
    for seconds in [
        c.upstreamConnectTimeoutSeconds, c.upstreamFirstByteTimeoutSeconds, c.upstreamIdleTimeoutSeconds,
        c.headerReadTimeoutSeconds, c.idleTimeoutSeconds, c.shutdownDrainSeconds, c.continuitySnapshotSeconds,
    ] {
        fuzzInvariant((0...ProxyConfiguration.maximumSettingSeconds).contains(seconds), "duration out of range")
    }
    return 0
}
