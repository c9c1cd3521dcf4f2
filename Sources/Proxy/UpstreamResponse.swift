/// A whole, buffered upstream response, as returned by `UpstreamClient.perform`.
public struct UpstreamResponse: Sendable {
    public var status: Int
    /// In wire order; repeated names stay separate entries.
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var completion: UpstreamCompletion

    public init(status: Int, headers: [(String, String)], body: [UInt8], completion: UpstreamCompletion) {
        self.status = status
        self.headers = headers
        self.body = body
        self.completion = completion
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.foldedForHeaders
        return headers.first { $0.0.foldedForHeaders == lower }?.1
    }
}
