import Foundation
import Proxy

/// `sightline serve --config FILE`: runs the proxy until SIGINT/SIGTERM, then drains in-flight streams
/// within the configured deadline.
enum ServeCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count else {
            FileHandle.standardError.write(Data("sightline serve: --config FILE is required\n".utf8))
            return 2
        }
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
        _ = TerminationSignal.wait()
        proxy.shutdown()
        return 0
    }
}
