import CCurl

/// The curl multi loop of one `UpstreamClient`, run on its dedicated thread: the path of transfers started
/// without an event loop (token refresh, `/models`, the WebSocket carrier, tests).
///
/// Each iteration: run queued commands (start, cancel, resume, shutdown), `curl_multi_perform`, report
/// finished transfers, enforce the first-byte and idle timers, then `curl_multi_poll` until socket activity,
/// a timer, or `curl_multi_wakeup` from `CurlMultiInbox.post`. Connections are reused through the multi
/// handle's connection cache; the transfers themselves are kept by a `CurlTransferTable`. It emits nothing.
/// Concurrency: created and used only on the client's curl thread.
final class CurlMultiLoop {
    private static let maxPollMilliseconds: Int64 = 1000

    private let inbox: CurlMultiInbox
    private let table: CurlTransferTable

    init(inbox: CurlMultiInbox, configuration: UpstreamClientConfiguration) {
        self.inbox = inbox
        self.table = CurlTransferTable(multi: inbox.multi.raw, configuration: configuration)
    }

    /// Runs until a `.shutdown` command; then every transfer is completed as cancelled and the multi handle freed.
    func run() {
        inbox.markLoopThread()
        while true {
            let commands = inbox.takeAll()
            for (i, command) in commands.enumerated() {
                switch command {
                case .start(let transfer, let request, let delegate):
                    table.start(transfer, request, delegate)
                case .cancel(let id):
                    table.cancel(id)
                case .resume(let id):
                    table.resume(id)
                case .shutdown:
                    // What came in the same batch after the shutdown is settled as what comes after it is: a start
                    // posted between `close()` and the loop's last take was dropped here, and its caller waited
                    // for a completion that never came.
                    shutDown(alsoQueued: commands[(i + 1)...])
                    return
                }
            }
            var running: Int32 = 0
            _ = curl_multi_perform(table.multi, &running)
            table.reportFinished()
            let next = table.expireTimers(now: CurlEasyTransfer.now())
            _ = curl_multi_poll(table.multi, nil, 0, Int32(pollTimeoutMilliseconds(until: next)), nil)
        }
    }

    private func shutDown(alsoQueued: ArraySlice<CurlMultiInbox.Command>) {
        for command in Array(alsoQueued) + inbox.close() {
            if case .start(_, _, let delegate) = command {
                delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
            }
        }
        table.shutDown(detail: "client closed")
    }

    /// Until the earliest transfer timer, at most a second; libcurl's own timers are honoured by
    /// `curl_multi_poll` itself.
    private func pollTimeoutMilliseconds(until deadline: UInt64?) -> Int64 {
        guard let deadline else { return Self.maxPollMilliseconds }
        let now = CurlEasyTransfer.now()
        let remaining = deadline > now ? Int64((deadline - now + 999_999) / 1_000_000) : 0
        return min(Self.maxPollMilliseconds, remaining)
    }
}

/// Not `Sendable`: owned by the curl thread (see the type's concurrency contract).
@available(*, unavailable)
extension CurlMultiLoop: Sendable {}
