import Dispatch
import HTTPServer
import Synchronization

/// The event loops on which one `UpstreamClient` has a `CurlLoopDriver`, so transfers find their loop's
/// driver and `close()` can reach every one of them.
///
/// A driver is created on a loop the first time a transfer is started there, and kept as that loop's
/// attachment under this object's identity (the driver retains this object, so the identity cannot be
/// reused while an attachment carries it). It does no transfer work itself.
/// Concurrency: `Sendable`; the set of loops and the closed flag are behind `state`; drivers are only
/// touched on their own loop's thread.
final class CurlLoopDrivers: Sendable {
    private struct State {
        var loops: Set<EventLoopHandle> = []
        var closed = false
    }

    let configuration: UpstreamClientConfiguration
    private let state = Mutex(State())

    init(configuration: UpstreamClientConfiguration) {
        self.configuration = configuration
    }

    private var key: ObjectIdentifier { ObjectIdentifier(self) }

    /// True once `close` ran.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Loop thread: this client's driver on `loop`; created on first use unless `create` is false. Nil once
    /// the client has closed, or when libcurl or the kernel refuse the resources.
    func driver(on loop: EventLoopHandle, create: Bool = false) -> CurlLoopDriver? {
        if let existing = loop.attachment(key) as? CurlLoopDriver { return existing }
        guard create else { return nil }
        let admitted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.loops.insert(loop)
            return true
        }
        guard admitted, let driver = CurlLoopDriver(loop: loop, owner: self, configuration: configuration) else {
            return nil
        }
        guard loop.setAttachment(driver, for: key) else {
            driver.shutDown(detail: "client closed")
            return nil
        }
        return driver
    }

    /// Shuts every driver down on its own loop (in-flight transfers complete as cancelled) and refuses new
    /// ones. Waits for each loop to have done it, unless `wait` is false or the caller runs on that loop
    /// (where it cannot wait for itself: the shutdown then runs right after the current operation).
    func close(wait: Bool) {
        let loops = state.withLock { s -> Set<EventLoopHandle> in
            s.closed = true
            defer { s.loops = [] }
            return s.loops
        }
        let done = DispatchSemaphore(value: 0)
        var pending = 0
        let key = self.key
        for loop in loops {
            let queued = loop.execute {
                if let driver = loop.attachment(key) as? CurlLoopDriver {
                    loop.setAttachment(nil, for: key)
                    driver.shutDown(detail: "client closed")
                }
                done.signal()
            }
            if queued && wait && !loop.isCurrent { pending += 1 }
        }
        for _ in 0..<pending { done.wait() }
    }
}
