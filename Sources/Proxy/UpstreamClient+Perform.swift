import HTTPServer
import Synchronization

extension UpstreamClient {
    /// Sends a request and buffers the whole response: for small, non-streaming calls (token refresh,
    /// `/models` pass-through). Streaming requests use `start(_:delegate:)` instead.
    ///
    /// Any HTTP status is returned, not thrown. Throws `UpstreamFailure` when no complete response arrived;
    /// a body larger than `maxBodyBytes` is read to the end but discarded and thrown as reason `other`.
    /// Cancelling the calling task cancels the transfer (thrown as reason `cancelled`). With a `loop`, the
    /// transfer runs on that event loop (see `start(_:on:delegate:)`).
    public func perform(
        _ request: UpstreamRequest,
        on loop: EventLoopHandle? = nil,
        maxBodyBytes: Int = 16 << 20
    ) async throws -> UpstreamResponse {
        let collector = UpstreamResponseCollector(maxBodyBytes: maxBodyBytes)
        let transfer = start(request, on: loop, delegate: collector)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                collector.setContinuation(continuation)
            }
        } onCancel: {
            transfer.cancel()
        }
    }
}

/// The delegate behind `UpstreamClient.perform`: collects head and body, then resumes one continuation.
///
/// Concurrency: `Sendable`; all state is behind `state` (callbacks on the driving thread, the continuation set by
/// the awaiting task, in either order).
final class UpstreamResponseCollector: UpstreamDelegate {
    private struct State {
        var status = 0
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var overflowed = false
        var result: Result<UpstreamResponse, UpstreamFailure>?
        var continuation: CheckedContinuation<UpstreamResponse, any Error>?
    }

    private let maxBodyBytes: Int
    private let state = Mutex(State())

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func setContinuation(_ continuation: CheckedContinuation<UpstreamResponse, any Error>) {
        let ready = state.withLock { state -> Result<UpstreamResponse, UpstreamFailure>? in
            guard let result = state.result else {
                state.continuation = continuation
                return nil
            }
            return result
        }
        if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) {
        state.withLock { state in
            state.status = status
            state.headers = headers
        }
    }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        state.withLock { state in
            if state.body.count + bytes.count > maxBodyBytes {
                state.overflowed = true
            } else if !state.overflowed {
                state.body.append(contentsOf: bytes)
            }
        }
        return .proceed
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        let (continuation, final) = state.withLock { state in
            let final: Result<UpstreamResponse, UpstreamFailure>
            switch result {
            case .success(let completion) where state.overflowed:
                let detail = "response body exceeds \(maxBodyBytes) bytes"
                final = .failure(
                    UpstreamFailure(reason: .other, detail: detail, bytesReceived: completion.bytesReceived)
                )
            case .success(let completion):
                final = .success(
                    UpstreamResponse(
                        status: state.status,
                        headers: state.headers,
                        body: state.body,
                        completion: completion
                    )
                )
            case .failure(let failure):
                final = .failure(failure)
            }
            state.result = final
            let continuation = state.continuation
            state.continuation = nil
            return (continuation, final)
        }
        continuation?.resume(with: final.mapError { $0 as any Error })
    }
}
