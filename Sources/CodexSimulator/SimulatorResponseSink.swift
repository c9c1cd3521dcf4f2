import HTTPServer

/// The part of `HTTPResponder` the simulator writes through.
///
/// A protocol so the handler can be driven in tests by an in-memory recorder, and so a WebSocket
/// transport can later take the same stream plans. Requirements match `HTTPResponder`: every method is
/// safe from any thread, and exactly one of `respond`, `beginStream`…`end`, or `abort` finishes a request.
protocol SimulatorResponseSink: AnyObject, Sendable {
    func respond(status: Int, headers: HTTPHeaders, body: [UInt8])
    func beginStream(status: Int, headers: HTTPHeaders)
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    func end()
    func abort()
    /// Closes once what is queued is written, without finishing the body (a cut stream).
    func abortAfterFlush()
    func onWritable(_ callback: @escaping @Sendable () -> Void)
    func onClose(_ callback: @escaping @Sendable () -> Void)
}

extension HTTPResponder: SimulatorResponseSink {}
