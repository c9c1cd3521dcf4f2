import Dispatch
import Foundation

/// Blocks the calling thread until SIGINT or SIGTERM arrives, then returns the signal number.
///
/// The sources are created here, in a nonisolated function, so their handlers are not inferred
/// `@MainActor` (which crashes when they fire on another queue), and they stay referenced until return.
public enum TerminationSignal {
    public static func wait() -> Int32 {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let semaphore = DispatchSemaphore(value: 0)
        let received = ReceivedSignal()
        let queue = DispatchQueue(label: "sightline.signals")
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { @Sendable in
                received.set(sig)
                semaphore.signal()
            }
            source.resume()
            return source
        }
        semaphore.wait()
        withExtendedLifetime(sources) {}
        return received.value
    }
}

private final class ReceivedSignal: @unchecked Sendable {
    // Written once on the signal queue before the semaphore is signalled; read after the wait returns.
    private var storage: Int32 = 0
    func set(_ v: Int32) { storage = v }
    var value: Int32 { storage }
}
