import Dispatch
import HTTPServer
import Synchronization

/// Writes one `StreamPlan` to a client: headers, then events, paced by the plan's delays, with
/// backpressure, ending with the terminating chunk or an abort (`stream_cut`).
///
/// Events without a delay before them are coalesced into one write. Delays run on a shared timer
/// queue, never on the event loop; a `write` that reports a full buffer pauses until `onWritable`.
/// A client that leaves cancels the rest. Does not decide anything: the plan is final.
/// Concurrency: `Sendable`; progress is in `progress` behind a `Mutex`, and sink calls are made outside it.
final class StreamWriter: Sendable {
    static let timers = DispatchQueue(label: "codex-simulator.stream-timers")

    private struct Progress {
        var next = 0
        /// The index whose delay has already been waited for.
        var waited = -1
        var finished = false
    }

    let plan: StreamPlan
    let sink: any SimulatorResponseSink
    private let progress = Mutex(Progress())
    private let onFinish: @Sendable (StreamWriter) -> Void

    init(plan: StreamPlan, sink: any SimulatorResponseSink, onFinish: @escaping @Sendable (StreamWriter) -> Void) {
        self.plan = plan
        self.sink = sink
        self.onFinish = onFinish
    }

    func start() {
        sink.onClose { [self] in finish() }
        sink.beginStream(status: 200, headers: plan.headers)
        pump()
    }

    /// Stops the stream at once and closes the connection (simulator shutdown).
    func cancel() {
        if finish() { sink.abort() }
    }

    /// Marks the stream finished; true if this call did it.
    @discardableResult
    private func finish() -> Bool {
        let did = progress.withLock { p in
            if p.finished { return false }
            p.finished = true
            return true
        }
        if did { onFinish(self) }
        return did
    }

    private enum Step {
        case done
        case end
        case abort
        case wait(Int)
        case write([UInt8])
    }

    private func nextStep() -> Step {
        progress.withLock { p in
            if p.finished { return .done }
            let limit = min(plan.events.count, plan.cutAfterEvents ?? Int.max)
            let i = p.next
            if i >= limit { return plan.cutAfterEvents != nil ? .abort : .end }
            let delay = plan.delayBefore(i)
            if delay > 0 && p.waited != i { return .wait(delay) }
            var bytes = plan.events[i]
            var j = i + 1
            while j < limit && plan.delayBefore(j) == 0 {
                bytes.append(contentsOf: plan.events[j])
                j += 1
            }
            p.next = j
            return .write(bytes)
        }
    }

    func pump() {
        while true {
            switch nextStep() {
            case .done:
                return
            case .end:
                if finish() { sink.end() }
                return
            case .abort:
                if finish() { sink.abortAfterFlush() }
                return
            case .wait(let ms):
                guard ms != Int.max else { return }  // silence until the client leaves or shutdown
                Self.timers.asyncAfter(deadline: .now() + .milliseconds(ms)) { [self] in
                    progress.withLock { $0.waited = $0.next }
                    pump()
                }
                return
            case .write(let bytes):
                if !sink.write(bytes) {
                    sink.onWritable { [self] in pump() }
                    return
                }
            }
        }
    }
}
