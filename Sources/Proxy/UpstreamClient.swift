import CCurl
import Dispatch
import Foundation
import Synchronization

/// The proxy's HTTP client for upstream calls, built on libcurl's multi interface.
///
/// One client owns one dedicated thread ("sightline-upstream") that drives every transfer through a single
/// curl multi handle (`CurlMultiLoop`). Connections are kept alive and reused across transfers to the same
/// host through the multi handle's connection cache. TLS verification is on unless the configuration says
/// otherwise; upstream requests use HTTP/1.1 unless `allowHTTP2` is set.
///
/// What it does not do: retries, redirects, content decoding, header rewriting beyond what
/// `UpstreamRequest` documents, metrics or logging. It emits nothing: the proxy records metrics, span events
/// and log lines from the `UpstreamDelegate` callbacks and from `UpstreamCompletion` / `UpstreamFailure`.
///
/// Concurrency: `Sendable`. `start`, `perform`, `close` and the `UpstreamTransfer` methods may be called from
/// any thread; they only post commands to the curl thread (`CurlMultiInbox`, a `Mutex`-guarded queue plus
/// `curl_multi_wakeup`). Delegates are called on the curl thread. `curl_global_init` runs once per process
/// (`CurlGlobal`). Dropping the last reference shuts the loop down asynchronously; `close()` does it and waits.
public final class UpstreamClient: Sendable {
    public let configuration: UpstreamClientConfiguration
    private let inbox: CurlMultiInbox
    private let nextID = Atomic<UInt64>(1)
    private let loopExited = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)

    public init(configuration: UpstreamClientConfiguration = UpstreamClientConfiguration()) {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        _ = sl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, configuration.maxConnectionsPerHost))
        if let maxCached = configuration.maxCachedConnections {
            _ = sl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxCached))
        }
        _ = sl_multi_setopt_long(
            multi,
            CURLMOPT_PIPELINING,
            configuration.allowHTTP2 ? Int(CURLPIPE_MULTIPLEX) : Int(CURLPIPE_NOTHING)
        )
        self.configuration = configuration
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
        inbox.post(.shutdown)
    }

    /// Starts a transfer now and returns its handle. Every event goes to `delegate` on the curl thread (see
    /// `UpstreamDelegate` for the contract); `upstreamDidComplete` is called exactly once. If the client was
    /// already closed, the delegate is completed with `cancelled` synchronously, on the caller's thread.
    @discardableResult
    public func start(_ request: UpstreamRequest, delegate: any UpstreamDelegate) -> UpstreamTransfer {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let transfer = UpstreamTransfer(id: id, inbox: inbox)
        if !inbox.post(.start(transfer, request, delegate)) {
            delegate.upstreamDidComplete(.failure(UpstreamFailure(reason: .cancelled, detail: "client closed")))
        }
        return transfer
    }

    /// Stops the loop: transfers in flight complete with `cancelled`, connections close, the thread exits.
    /// Waits for the thread to finish unless called on the curl thread itself (from a delegate callback),
    /// where it only requests the shutdown. Later calls return at once.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        inbox.post(.shutdown)
        if !inbox.isOnLoopThread { loopExited.wait() }
    }
}
