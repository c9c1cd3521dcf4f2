import Dispatch
import Foundation
import Synchronization

@testable import Proxy

/// A recording `UpstreamDelegate` for tests: keeps every event, lets the test decide `.proceed`/`.pause`, and
/// signals a semaphore at completion. Concurrency: `Sendable`; all state behind `state`.
final class UpstreamTestDelegate: UpstreamDelegate {
    struct State {
        var heads: [(status: Int, headers: [(String, String)])] = []
        var body: [UInt8] = []
        var bodyCalls = 0
        var pauses = 0
        var completions: [Result<UpstreamCompletion, UpstreamFailure>] = []
        var transfer: UpstreamTransfer?
    }

    let state = Mutex(State())
    private let completed = DispatchSemaphore(value: 0)
    /// Called for each body chunk with the call index; returns the flow. Default: always `.proceed`.
    private let decide:
        @Sendable (_ call: Int, _ bytes: UnsafeRawBufferPointer, _ delegate: UpstreamTestDelegate) -> UpstreamFlow
    /// Called after a chunk was consumed, with everything consumed so far.
    private let onConsumed: @Sendable ([UInt8]) -> Void

    init(
        decide: @escaping @Sendable (Int, UnsafeRawBufferPointer, UpstreamTestDelegate) -> UpstreamFlow = { _, _, _ in
            .proceed
        },
        onConsumed: @escaping @Sendable ([UInt8]) -> Void = { _ in }
    ) {
        self.decide = decide
        self.onConsumed = onConsumed
    }

    var transfer: UpstreamTransfer? {
        get { state.withLock { $0.transfer } }
        set { state.withLock { $0.transfer = newValue } }
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) {
        state.withLock { $0.heads.append((status, headers)) }
    }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        let call = state.withLock { state -> Int in
            state.bodyCalls += 1
            return state.bodyCalls
        }
        let flow = decide(call, bytes, self)
        if flow == .pause {
            state.withLock { $0.pauses += 1 }
            return .pause
        }
        let body = state.withLock { state -> [UInt8] in
            state.body.append(contentsOf: bytes)
            return state.body
        }
        onConsumed(body)
        return .proceed
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        state.withLock { $0.completions.append(result) }
        completed.signal()
    }

    /// Waits for the completion; `nil` on timeout.
    func waitForCompletion(timeoutSeconds: Double = 5) -> Result<UpstreamCompletion, UpstreamFailure>? {
        guard completed.wait(timeout: .now() + timeoutSeconds) == .success else { return nil }
        return state.withLock { $0.completions.first }
    }
}
