import CCurl
import Dispatch
import Foundation
import HTTPServer
import Synchronization

/// The proxy's HTTP client for upstream calls, built on libcurl's multi interface.
///
/// A transfer started with an event loop (`start(_:on:delegate:)`, the proxied requests) runs on that loop's
/// thread, through one curl multi handle per loop (`CurlLoopDriver`): upstream bytes reach the client's
/// socket with no thread hop. Every other transfer (token refresh, `/models`, the WebSocket carrier) runs on
/// one dedicated thread ("sightline-upstream") and its own multi handle (`CurlMultiLoop`). Connections are
/// kept alive and reused across transfers to the same host through each multi handle's connection cache
/// (so per loop: `maxConnectionsPerHost` applies to each multi handle). TLS verification is on unless the configuration says
/// otherwise; upstream requests use HTTP/1.1 unless `allowHTTP2` is set.
///
/// What it does not do: retries, redirects, content decoding, header rewriting beyond what
/// `UpstreamRequest` documents, metrics or logging. It emits nothing: the proxy records metrics, span events
/// and log lines from the `UpstreamDelegate` callbacks and from `UpstreamCompletion` / `UpstreamFailure`.
///
/// Concurrency: `Sendable`. `start`, `perform`, `close` and the `UpstreamTransfer` methods may be called from
/// any thread; they only post commands to the driving thread (`CurlMultiInbox`, a `Mutex`-guarded queue plus
/// `curl_multi_wakeup`, or `EventLoopHandle.execute`). Delegates are called on the driving thread. `curl_global_init` runs once per process
/// (`CurlGlobal`). Dropping the last reference shuts the loop down asynchronously; `close()` does it and waits.
public final class UpstreamClient: Sendable {
    public let configuration: UpstreamClientConfiguration
    private let inbox: CurlMultiInbox
    private let loopDrivers: CurlLoopDrivers
    private let nextID = Atomic<UInt64>(1)
    private let loopExited = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)

    public init(configuration: UpstreamClientConfiguration = UpstreamClientConfiguration()) {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        self.configuration = configuration
        loopDrivers = CurlLoopDrivers(configuration: configuration)
        let inbox = CurlMultiInbox(multi: CurlMultiPointer(raw: multi))
        self.inbox = inbox
        let exited = loopExited
        // The thread holds the inbox, never the client, so dropping the client can shut the loop down.
        let thread = Thread {
            CurlMultiLoop(inbox: inbox, configuration: configuration).run()
            exited.signal()
        }
        thread.name = "sightline-upstream"
        thread.start()
    }

    deinit {
        loopDrivers.close(wait: false)
        inbox.post(.shutdown)
    }

    /// Starts a transfer now and returns its handle. Every event goes to `delegate` on the curl thread (see
    /// `UpstreamDelegate` for the contract); `upstreamDidComplete` is called exactly once. If the client was
    /// already closed, the delegate is completed with `cancelled` synchronously, on the caller's thread.
    @discardableResult
    public func start(_ request: UpstreamRequest, delegate: any UpstreamDelegate) -> UpstreamTransfer {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let transfer = UpstreamTransfer(id: id, route: .thread(inbox))
        if !inbox.post(.start(transfer, request, delegate)) {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
        }
        return transfer
    }

    /// Starts a transfer on `loop`'s thread (see the type's comment); with a nil loop, as `start(_:delegate:)`.
    /// Every delegate method is then called on that loop's thread. It starts after the caller's current
    /// operation on that loop (never inside it); if the client or the loop has stopped, the delegate is
    /// completed with `cancelled`.
    @discardableResult
    public func start(
        _ request: UpstreamRequest,
        on loop: EventLoopHandle?,
        delegate: any UpstreamDelegate
    ) -> UpstreamTransfer {
        guard let loop else { return start(request, delegate: delegate) }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let drivers = loopDrivers
        let transfer = UpstreamTransfer(id: id, route: .loop(loop, drivers))
        if closed.load(ordering: .acquiring) {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
            return transfer
        }
        let queued = loop.execute {
            guard let driver = drivers.driver(on: loop, create: true) else {
                // Closed meanwhile: cancelled. Otherwise libcurl or the kernel refused a multi handle or a
                // timerfd (descriptors exhausted): a transport failure the exchange recovers from and counts,
                // never a "client closed".
                let failure =
                    drivers.isClosed
                    ? UpstreamFailure(reason: .cancelled, detail: "client closed")
                    : UpstreamFailure(reason: .other, detail: "no upstream driver on this event loop")
                delegate.upstreamDidComplete(.failure(failure))
                return
            }
            driver.start(transfer, request, delegate)
        }
        if !queued {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "event loop stopped")))
        }
        return transfer
    }

    /// Stops the client: transfers in flight complete with `cancelled` (those on event loops, on their loops),
    /// connections close, the thread exits. Waits for that unless called on the curl thread or a loop thread
    /// (from a delegate callback), where it only requests the shutdown. Later calls return at once.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loopDrivers.close(wait: true)
        inbox.post(.shutdown)
        if !inbox.isOnLoopThread { loopExited.wait() }
    }
}
