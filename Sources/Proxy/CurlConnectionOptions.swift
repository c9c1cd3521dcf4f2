import CCurl

/// The libcurl options that decide which peers an upstream connection trusts and which way it goes: TLS peer
/// and host-name verification, the CA bundle, and the egress proxy.
///
/// Both upstream transports set them through this one function, HTTP transfers (`CurlEasyTransfer`) and
/// WebSocket connections (`UpstreamWebSocketIO`), so the two cannot drift apart. Until 2026-12-07 the WebSocket
/// set none of them itself: a `wss://` upstream ignored `upstream.caFile` and `upstream.verifyTLS`, and
/// followed the `https_proxy`/`all_proxy` environment variables that HTTP ignores on purpose.
///
/// It does not set timeouts, protocols, or anything else that belongs to one kind of transfer.
/// Concurrency: stateless; the caller owns the handle on its own thread.
enum CurlConnectionOptions {
    /// Sets the options from `configuration` on `handle`. Returns the first code libcurl refused (`CURLE_OK`
    /// when it took them all).
    static func apply(_ configuration: UpstreamClientConfiguration, to handle: UnsafeMutableRawPointer) -> CURLcode {
        var result = CURLE_OK
        func apply(_ code: CURLcode) { if result == CURLE_OK { result = code } }
        apply(sl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0))
        apply(sl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0))
        if let caFile = configuration.caFile { apply(sl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        // An empty proxy string disables the http_proxy/https_proxy/all_proxy environment variables: where the
        // proxy's traffic goes must not depend on the environment it was started in.
        apply(sl_easy_setopt_string(handle, CURLOPT_PROXY, configuration.egressProxy ?? ""))
        // Unset, libcurl reads no_proxy/NO_PROXY from the environment even beside an explicit proxy, and a
        // matching host (or `*`) would go direct around the configured egress.
        apply(sl_easy_setopt_string(handle, CURLOPT_NOPROXY, ""))
        return result
    }
}
