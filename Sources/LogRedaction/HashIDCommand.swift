/// `sightline hash-id`: prints the keyed pseudonym of a raw identifier so operators can grep logs.
///
/// ```
/// sightline hash-id --kind KIND [--key-file F | --state-dir D] (VALUE | --stdin)
/// ```
/// KIND: `account`/`acct`, `principal`/`prn`, `session`/`sess`, `turn`, `response`/`rid`.
/// Key precedence, the proxy's own (`serve`, `accounts import`): a non-empty `SIGHTLINE_PSEUDONYM_KEY` (hex) in the
/// environment, then `--key-file`, then the existing `<state-dir>/pseudonym.key`. Run beside the proxy, it prints the
/// pseudonym the proxy logs; with `--key-file` first it printed another one whenever the variable was set. It never
/// creates a key: a fresh key would match no log.
/// `--stdin` reads one line and drops its newline, keeping the id out of shell history.
/// Output is the pseudonym and a newline (exit 0); errors are `sightline hash-id: …` (exit 1 for
/// key problems, 2 for usage), which the CLI writes to standard error, never to standard output.
/// Pure apart from reading the key file; the CLI wires stdin and printing.
public enum HashIDCommand {
    public static let usage = """
        usage: sightline hash-id --kind KIND [--key-file FILE | --state-dir DIR] (VALUE | --stdin)
          KIND: account|acct, principal|prn, session|sess, turn, response|rid
          key: $SIGHTLINE_PSEUDONYM_KEY (hex) if set and non-empty, else --key-file, else DIR/pseudonym.key

        """

    /// - Parameters:
    ///   - arguments: the arguments after `hash-id` (a leading `hash-id` is skipped too).
    ///   - stdin: reads one line without its newline, or nil at end of input.
    public static func run(
        arguments: [String],
        environment: [String: String],
        stdin: () -> String?
    ) -> (output: String, exitCode: Int32) {
        var arguments = arguments[...]
        if arguments.first == "hash-id" { arguments = arguments.dropFirst() }
        var kindName: String?
        var keyFile: String?
        var stateDirectory: String?
        var readStdin = false
        var values: [String] = []
        while let argument = arguments.popFirst() {
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            func value() -> String? { inlineValue ?? arguments.popFirst() }
            switch name {
            case "--kind": kindName = value()
            case "--key-file": keyFile = value()
            case "--state-dir": stateDirectory = value()
            case "--stdin": readStdin = true
            case "-h", "--help": return (usage, 0)
            case "--":
                values.append(contentsOf: arguments)
                arguments = []
            default:
                if argument.hasPrefix("-") && argument.count > 1 { return usageError("unknown option \(argument)") }
                values.append(argument)
            }
        }
        guard let kindName else { return usageError("--kind is required") }
        guard let kind = PseudonymKind(name: kindName) else { return usageError("unknown kind \(kindName)") }
        let value: String
        if readStdin {
            guard values.isEmpty else { return usageError("give VALUE or --stdin, not both") }
            guard let line = stdin() else { return usageError("--stdin: no input") }
            value = line.hasSuffix("\r") ? String(line.dropLast()) : line
        } else {
            guard values.count == 1 else { return usageError("give exactly one VALUE (or --stdin)") }
            value = values[0]
        }
        do {
            let key: [UInt8]
            if let hex = environment[PseudonymKeyStore.environmentVariable], !hex.isEmpty {
                key = try PseudonymKeyStore.parseHexKey(hex, source: PseudonymKeyStore.environmentVariable)
            } else if let keyFile {
                key = try PseudonymKeyStore.load(keyFile: keyFile)
            } else if let stateDirectory {
                key = try PseudonymKeyStore.load(keyFile: stateDirectory + "/" + PseudonymKeyStore.fileName)
            } else {
                return usageError("no key: use --key-file, SIGHTLINE_PSEUDONYM_KEY or --state-dir")
            }
            return (try Pseudonymizer(key: key).pseudonym(kind, value) + "\n", 0)
        } catch {
            return ("sightline hash-id: \(error)\n", 1)
        }
    }

    private static func usageError(_ message: String) -> (output: String, exitCode: Int32) {
        ("sightline hash-id: \(message)\n" + usage, 2)
    }
}
