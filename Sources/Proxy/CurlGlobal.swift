import CCurl

/// Runs `curl_global_init` once per process, before the first multi or easy handle exists.
///
/// Swift initialises a `static let` exactly once, thread-safely, so this is the once-guard. Global cleanup
/// is never called: other code in the process (FoundationNetworking) may share libcurl.
enum CurlGlobal {
    private static let initResult: Int = Int(curl_global_init(Int(CURL_GLOBAL_DEFAULT)).rawValue)

    /// `true` when libcurl initialised successfully.
    @discardableResult
    static func ensureInitialized() -> Bool { initResult == Int(CURLE_OK.rawValue) }
}
