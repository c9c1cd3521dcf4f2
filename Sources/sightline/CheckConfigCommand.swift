import Foundation
import Proxy

/// `sightline check-config --config FILE`: loads the configuration as `serve` would (without binding)
/// and reports the first problem. Never prints a credential: errors name keys, not values.
enum CheckConfigCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count else {
            FileHandle.standardError.write(Data("sightline check-config: --config FILE is required\n".utf8))
            return 2
        }
        do {
            try SightlineProxy.validate(
                configurationFile: arguments[i + 1],
                environment: ProcessInfo.processInfo.environment
            )
            print("configuration ok")
            return 0
        } catch {
            FileHandle.standardError.write(Data("sightline check-config: \(error)\n".utf8))
            return 1
        }
    }
}
