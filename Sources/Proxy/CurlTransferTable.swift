import CCurl

/// The transfers of one curl multi handle, whichever way the handle is driven: by its own thread with
/// `curl_multi_poll` (`CurlMultiLoop`) or by an HTTP server event loop with `curl_multi_socket_action`
/// (`CurlLoopDriver`).
///
/// It configures and adds easy handles (kept in a small pool and `curl_easy_reset` between transfers),
/// reports finished ones, enforces each transfer's first-byte and idle timers, and is the only place that
/// calls `upstreamDidComplete`, once per transfer. It does not wait for sockets or decide when to run:
/// its driver does. It never runs inside a libcurl callback (libcurl forbids multi calls from there).
/// Emits nothing. Concurrency: confined to its driver's thread.
final class CurlTransferTable {
    private static let maxSpareHandles = 32

    let multi: UnsafeMutableRawPointer
    private let configuration: UpstreamClientConfiguration
    private var transfersByID: [UInt64: CurlEasyTransfer] = [:]
    private var transfersByHandle: [UnsafeMutableRawPointer: CurlEasyTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []

    /// Takes ownership of `multi` (freed by `shutDown`) and sets the client-wide options on it.
    init(multi: UnsafeMutableRawPointer, configuration: UpstreamClientConfiguration) {
        self.multi = multi
        self.configuration = configuration
        _ = sl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, configuration.maxConnectionsPerHost))
        if let maxCached = configuration.maxCachedConnections {
            _ = sl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxCached))
        }
        _ = sl_multi_setopt_long(
            multi,
            CURLMOPT_PIPELINING,
            configuration.allowHTTP2 ? Int(CURLPIPE_MULTIPLEX) : Int(CURLPIPE_NOTHING)
        )
    }

    var isEmpty: Bool { transfersByID.isEmpty }

    /// Configures a handle for `request` and adds it. On failure the delegate is completed at once. Returns
    /// the new transfer's own deadline, if it has one.
    @discardableResult
    func start(_ transfer: UpstreamTransfer, _ request: UpstreamRequest, _ delegate: any UpstreamDelegate) -> UInt64? {
        if transfer.cancelRequested.load(ordering: .acquiring) {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "cancelled by caller")))
            return nil
        }
        guard let handle = spareHandles.popLast() ?? curl_easy_init() else {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .other, detail: "curl_easy_init failed")))
            return nil
        }
        let easy = CurlEasyTransfer(
            transfer: transfer,
            handle: handle,
            request: request,
            delegate: delegate,
            configuration: configuration
        )
        let configured = easy.configure(request, configuration)
        guard configured == CURLE_OK else {
            let failure = easy.failure(code: configured)
            recycle(easy)
            delegate.upstreamDidComplete(.failure(failure))
            return nil
        }
        // Registered before the add: adding may already call the socket and timer callbacks.
        transfersByID[transfer.id] = easy
        transfersByHandle[handle] = easy
        let added = curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else {
            transfersByID[transfer.id] = nil
            transfersByHandle[handle] = nil
            let detail = "curl_multi_add_handle: " + String(cString: curl_multi_strerror(added))
            recycle(easy)
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .other, detail: detail)))
            return nil
        }
        return easy.earliestDeadline(now: CurlEasyTransfer.now())
    }

    func cancel(_ id: UInt64) {
        guard let easy = transfersByID[id] else { return }
        finish(easy, .failure(easy.failure(reason: .cancelled, detail: "cancelled by caller")))
    }

    /// Un-pauses a paused transfer; returns the earliest its timer can fire from now on.
    @discardableResult
    func resume(_ id: UInt64) -> UInt64? {
        guard let easy = transfersByID[id] else { return nil }
        easy.resume()
        return easy.earliestDeadline(now: CurlEasyTransfer.now())
    }

    /// Completes every transfer libcurl reports done.
    func reportFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let easy = transfersByHandle[handle]
            else { continue }
            // Read before removal: the message is freed when the handle leaves the multi handle.
            let code = message.pointee.data.result
            if code == CURLE_OK {
                easy.deliverHeadIfMissing()
                finish(easy, .success(easy.completion()))
            } else {
                finish(easy, .failure(easy.failure(code: code)))
            }
        }
    }

    /// Fails every transfer whose own timer has passed; returns the earliest moment a timer left can fire
    /// (`CurlEasyTransfer.earliestDeadline`), for the driver's next wakeup.
    func expireTimers(now: UInt64) -> UInt64? {
        guard !transfersByID.isEmpty else { return nil }
        var expired: [(CurlEasyTransfer, UpstreamFailure.Reason)] = []
        var next: UInt64?
        for easy in transfersByID.values {
            if let deadline = easy.deadline(), deadline.at <= now {
                expired.append((easy, deadline.reason))
            } else if let earliest = easy.earliestDeadline(now: now) {
                next = min(next ?? earliest, earliest)
            }
        }
        for (easy, reason) in expired {
            let detail = reason == .firstByteTimeout ? "no response byte in time" : "response idle for too long"
            finish(easy, .failure(easy.failure(reason: reason, detail: detail)))
        }
        return next
    }

    /// Completes every transfer as cancelled (`detail` says why), frees the handles and the multi handle.
    func shutDown(detail: String) {
        for easy in Array(transfersByID.values) {
            finish(easy, .failure(easy.failure(reason: .cancelled, detail: detail)))
        }
        for handle in spareHandles { curl_easy_cleanup(handle) }
        spareHandles = []
        _ = curl_multi_cleanup(multi)
    }

    /// Removes the transfer (closing its connection if it was mid-flight), recycles its handle, then tells the
    /// delegate. A transfer whose caller already asked to cancel always reports `cancelled`.
    private func finish(_ easy: CurlEasyTransfer, _ result: Result<UpstreamCompletion, UpstreamFailure>) {
        transfersByID[easy.transfer.id] = nil
        transfersByHandle[easy.handle] = nil
        _ = curl_multi_remove_handle(multi, easy.handle)
        var result = result
        if easy.transfer.cancelRequested.load(ordering: .acquiring) {
            result = .failure(easy.failure(reason: .cancelled, detail: "cancelled by caller"))
        }
        recycle(easy)
        easy.delegate.upstreamDidComplete(result)
    }

    private func recycle(_ easy: CurlEasyTransfer) {
        curl_easy_reset(easy.handle)
        if spareHandles.count < Self.maxSpareHandles {
            spareHandles.append(easy.handle)
        } else {
            curl_easy_cleanup(easy.handle)
        }
        easy.release()
    }
}

/// Not `Sendable`: owned by its driver's thread (see the type's concurrency contract).
@available(*, unavailable)
extension CurlTransferTable: Sendable {}
