import HTTPServer
import Synchronization

/// A handle on one started upstream transfer: the only way to cancel or resume it.
///
/// It holds no transfer state; commands go to whichever thread drives the transfer — the client's curl
/// thread through its inbox (woken with `curl_multi_wakeup`), or the event loop the transfer runs on
/// (`EventLoopHandle.execute`) — and take effect there after the current callback returns. Concurrency:
/// `Sendable`; both methods may be called from any thread, including from inside the transfer's own
/// delegate callbacks.
public final class UpstreamTransfer: Sendable {
    enum Route: Sendable {
        case thread(CurlMultiInbox)
        case loop(EventLoopHandle, CurlLoopDrivers)
    }

    /// Unique within its client; useful to correlate delegate callbacks in logs.
    public let id: UInt64
    private let route: Route
    /// Read by the driving thread's callbacks, so no body byte is delivered once `cancel()` has returned.
    let cancelRequested = Atomic<Bool>(false)

    init(id: UInt64, route: Route) {
        self.id = id
        self.route = route
    }

    /// Stops the transfer: the handle leaves the multi handle, its connection is closed (never returned to
    /// the cache), and the delegate gets `upstreamDidComplete(.failure(reason: .cancelled))` exactly once.
    /// No body byte is delivered after this returns. A no-op after completion has been delivered, and
    /// idempotent.
    public func cancel() {
        guard !cancelRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let id = self.id
        switch route {
        case .thread(let inbox):
            inbox.post(.cancel(id))
        case .loop(let loop, let drivers):
            loop.execute { drivers.driver(on: loop)?.cancel(id) }
        }
    }

    /// Un-pauses a transfer whose delegate answered `.pause`: the withheld bytes are delivered again, then the
    /// rest. Call it after `.pause` was returned (calling it from another thread while the delegate is about to
    /// return `.pause` is fine: commands run only after the callback returns). A no-op when the transfer is
    /// not paused or has finished.
    public func resume() {
        let id = self.id
        switch route {
        case .thread(let inbox):
            inbox.post(.resume(id))
        case .loop(let loop, let drivers):
            loop.execute { drivers.driver(on: loop)?.resume(id) }
        }
    }
}
