import Foundation

/// The options of one subcommand (`serve`, `demo`, `check-config`, `simulator`), read strictly: `--flag value` or `--flag=value`,
/// each flag one the command knows, given once.
///
/// An unknown flag, a missing or malformed value, a repeated flag or a stray word is a usage error (exit 2, as
/// `hash-id` and `accounts import` answer), never ignored: `demo --port=9000` and `demo --port abc` bound 8787
/// without a word, and `serve --config=x.json` said `--config` was required.
/// Does not know what a flag means; the command reads the values through `string`, `port`, `int` and `bool`.
/// Concurrency: a value owned by the command that parsed it.
struct CommandOptions {
    /// What went wrong, for the line `sightline <command>: <message>` on standard error.
    struct UsageError: Error {
        let message: String
    }

    private let values: [String: String]
    /// `-h` or `--help` was given: the command prints its usage and exits 0.
    let helpRequested: Bool

    /// Reads `arguments` (the words after the command's name); `flags` are the flags that take a value.
    init(_ arguments: [String], flags: Set<String>) throws(UsageError) {
        var values: [String: String] = [:]
        var help = false
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "-h" || argument == "--help" {
                help = true
                continue
            }
            var flag = argument
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard flags.contains(flag) else {
                throw UsageError(message: argument.hasPrefix("-") ? "unknown option \(flag)" : "unexpected \(argument)")
            }
            guard values[flag] == nil else { throw UsageError(message: "\(flag) given twice") }
            // A following flag is not a value: `serve --config --verbose` names no file.
            if value == nil, let next = rest.first, !next.hasPrefix("--") {
                value = next
                rest = rest.dropFirst()
            }
            guard let value, !value.isEmpty else { throw UsageError(message: "\(flag) needs a value") }
            values[flag] = value
        }
        self.values = values
        self.helpRequested = help
    }

    func string(_ flag: String) -> String? { values[flag] }

    /// A TCP port (0–65535; 0 lets the system choose), or nil when the flag is absent.
    func port(_ flag: String) throws(UsageError) -> Int? { try int(flag, in: 0...65_535) }

    /// A whole number within `range`, or nil when the flag is absent.
    func int(_ flag: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = values[flag] else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(message: "\(flag) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// `true` or `false`, or nil when the flag is absent.
    func bool(_ flag: String) throws(UsageError) -> Bool? {
        switch values[flag] {
        case nil: return nil
        case "true": return true
        case "false": return false
        default: throw UsageError(message: "\(flag) must be true or false")
        }
    }

    /// What a command whose one option is `--config FILE` (`serve`, `check-config`) does next.
    enum ConfigFile {
        case file(String)
        /// Help printed (0) or a usage error reported (2): the command returns this status.
        case exit(Int32)
    }

    /// Reads `--config FILE` strictly, printing the usage for `--help` and reporting a usage error.
    static func configFile(_ arguments: [String], command: String, usage: String) -> ConfigFile {
        do throws(UsageError) {
            let options = try CommandOptions(arguments, flags: ["--config"])
            if options.helpRequested {
                print(usage)
                return .exit(0)
            }
            guard let config = options.string("--config") else {
                throw UsageError(message: "--config FILE is required")
            }
            return .file(config)
        } catch {
            return .exit(fail(command, error, usage: usage))
        }
    }

    /// Writes `sightline <command>: <message>` and the usage to standard error; returns the usage-error status, 2.
    static func fail(_ command: String, _ error: UsageError, usage: String) -> Int32 {
        FileHandle.standardError.write(Data("sightline \(command): \(error.message)\n\(usage)\n".utf8))
        return 2
    }
}
