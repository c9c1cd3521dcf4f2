import Foundation
import Proxy

/// `sightline serve --config FILE`: runs the proxy until SIGINT/SIGTERM, then drains in-flight streams
/// within the configured deadline; a second signal exits at once (`TerminationSignal`).
enum ServeCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count else {
            FileHandle.standardError.write(Data("sightline serve: --config FILE is required\n".utf8))
            return 2
        }
        // Before anything starts: a SIGTERM while the state loads is then a clean stop, not the default kill.
        let signals = TerminationSignal()
        let proxy: SightlineProxy
        do {
            proxy = try SightlineProxy(
                configurationFile: arguments[i + 1],
                environment: ProcessInfo.processInfo.environment
            )
            try proxy.start()
        } catch {
            FileHandle.standardError.write(Data("sightline serve: \(error)\n".utf8))
            return 1
        }
        _ = signals.wait()
        proxy.shutdown()
        return 0
    }
}
