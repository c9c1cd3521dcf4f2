import CCurl

/// The curl multi loop of one `UpstreamClient`, run on its dedicated thread.
///
/// Each iteration: run queued commands (start, cancel, resume, shutdown), `curl_multi_perform`, report
/// finished transfers, enforce the first-byte and idle timers, then `curl_multi_poll` until socket activity,
/// a timer, or `curl_multi_wakeup` from `CurlMultiInbox.post`. Connections are reused through the multi
/// handle's connection cache; easy handles are kept in a small pool and `curl_easy_reset` between transfers.
/// It is the only place that calls `upstreamDidComplete`, once per transfer. It emits nothing.
/// Concurrency: created and used only on the client's curl thread.
final class CurlMultiLoop {
    private static let maxSpareHandles = 32
    private static let maxPollMilliseconds: Int64 = 1000

    private let inbox: CurlMultiInbox
    private let configuration: UpstreamClientConfiguration
    private var multi: UnsafeMutableRawPointer { inbox.multi.raw }
    private var transfersByID: [UInt64: CurlEasyTransfer] = [:]
    private var transfersByHandle: [UnsafeMutableRawPointer: CurlEasyTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []

    init(inbox: CurlMultiInbox, configuration: UpstreamClientConfiguration) {
        self.inbox = inbox
        self.configuration = configuration
    }

    /// Runs until a `.shutdown` command; then every transfer is completed as cancelled and the multi handle freed.
    func run() {
        inbox.markLoopThread()
        while true {
            for command in inbox.takeAll() {
                switch command {
                case .start(let transfer, let request, let delegate):
                    start(transfer, request, delegate)
                case .cancel(let id):
                    if let easy = transfersByID[id] {
                        finish(easy, .failure(easy.failure(reason: .cancelled, detail: "cancelled by caller")))
                    }
                case .resume(let id):
                    transfersByID[id]?.resume()
                case .shutdown:
                    shutDown()
                    return
                }
            }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            reportFinished()
            enforceTimers()
            _ = curl_multi_poll(multi, nil, 0, Int32(pollTimeoutMilliseconds()), nil)
        }
    }

    // MARK: - Commands

    private func start(_ transfer: UpstreamTransfer, _ request: UpstreamRequest, _ delegate: any UpstreamDelegate) {
        guard let handle = spareHandles.popLast() ?? curl_easy_init() else {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .other, detail: "curl_easy_init failed")))
            return
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
            return
        }
        let added = curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else {
            let detail = "curl_multi_add_handle: " + String(cString: curl_multi_strerror(added))
            recycle(easy)
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .other, detail: detail)))
            return
        }
        transfersByID[transfer.id] = easy
        transfersByHandle[handle] = easy
    }

    private func shutDown() {
        for command in inbox.close() {
            if case .start(_, _, let delegate) = command {
                delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
            }
        }
        for easy in transfersByID.values {
            finish(easy, .failure(easy.failure(reason: .cancelled, detail: "client closed")))
        }
        for handle in spareHandles { curl_easy_cleanup(handle) }
        spareHandles = []
        _ = curl_multi_cleanup(multi)
    }

    // MARK: - Completion

    private func reportFinished() {
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

    private func enforceTimers() {
        guard !transfersByID.isEmpty else { return }
        let now = CurlEasyTransfer.now()
        var expired: [(CurlEasyTransfer, UpstreamFailure.Reason)] = []
        for easy in transfersByID.values {
            if let deadline = easy.deadline(), deadline.at <= now { expired.append((easy, deadline.reason)) }
        }
        for (easy, reason) in expired {
            let detail = reason == .firstByteTimeout ? "no response byte in time" : "response idle for too long"
            finish(easy, .failure(easy.failure(reason: reason, detail: detail)))
        }
    }

    private func pollTimeoutMilliseconds() -> Int64 {
        let now = CurlEasyTransfer.now()
        var timeout = Self.maxPollMilliseconds
        for easy in transfersByID.values {
            guard let deadline = easy.deadline() else { continue }
            let remaining = deadline.at > now ? Int64((deadline.at - now + 999_999) / 1_000_000) : 0
            timeout = min(timeout, remaining)
        }
        return timeout  // libcurl's own timers are honoured by curl_multi_poll itself.
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

/// Not `Sendable`: owned by the curl thread (see the type's concurrency contract).
@available(*, unavailable)
extension CurlMultiLoop: Sendable {}
