import Foundation
import Proxy

/// `sightline check-config --config FILE`: loads the configuration as `serve` would (without binding)
/// and reports the first problem. Never prints a credential: errors name keys, not values.
/// Exit status: 0 valid, 1 invalid, 2 usage error (`CommandOptions`).
enum CheckConfigCommand {
    static func run(arguments: [String]) -> Int32 {
        let path: String
        switch CommandOptions.configFile(arguments, command: "check-config", usage: Usage.checkConfig) {
        case .exit(let status): return status
        case .file(let file): path = file
        }
        do {
            try SightlineProxy.validate(configurationFile: path, environment: ProcessInfo.processInfo.environment)
            print("configuration ok")
            return 0
        } catch {
            FileHandle.standardError.write(Data("sightline check-config: \(error)\n".utf8))
            return 1
        }
    }
}
