import Foundation
import Proxy

/// `sightline serve --config FILE`: runs the proxy until SIGINT/SIGTERM, then drains in-flight streams
/// within the configured deadline; a second signal exits at once (`TerminationSignal`).
/// Exit status: 0 after a stop, 1 when the proxy cannot start, 2 usage error (`CommandOptions`).
enum ServeCommand {
    static func run(arguments: [String]) -> Int32 {
        let path: String
        switch CommandOptions.configFile(arguments, command: "serve", usage: Usage.serve) {
        case .exit(let status): return status
        case .file(let file): path = file
        }
        // Before anything starts: a SIGTERM while the state loads is then a clean stop, not the default kill.
        let signals = TerminationSignal()
        let proxy: SightlineProxy
        do {
            proxy = try SightlineProxy(configurationFile: path, environment: ProcessInfo.processInfo.environment)
            // Even a second signal waits for a token refresh in flight (its rotated refresh token must be written)
            // and for the cooldowns queued for the state file.
            signals.beforeImmediateExit { [proxy] in
                proxy.awaitTokenRefreshes()
                proxy.awaitAccountStateWrites()
            }
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
