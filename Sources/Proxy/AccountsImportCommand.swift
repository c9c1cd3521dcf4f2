import Foundation
import LogRedaction

/// `sightline accounts import PATH --state-dir DIR [--name NAME] [--base-url URL] [--key-file F]`.
///
/// Reads a Codex `auth.json`, adds or updates the account in `<DIR>/accounts.json` (created 0600) and
/// prints one line: the account name and its keyed pseudonym (`acct_…` of the name, as `serve` computes
/// it), so the operator can find it in logs and metrics. Without `--name`, a stored entry holding the same
/// login (`AuthJSONImporter.matchingEntryName`) is updated, else one is added under the default name. It never prints a
/// token, the account id or the email. `serve` pools accounts found in the state file even when the
/// configuration does not list them.
/// `arguments` are the words after `accounts import`. Exit status: 0 imported, 1 failed, 2 usage error.
/// Errors go to standard error as `sightline accounts import: <reason>: <detail>`.
public enum AccountsImportCommand {
    public static let usage =
        "usage: sightline accounts import PATH --state-dir DIR [--name NAME] [--base-url URL] [--key-file F]"

    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        var path: String?
        var stateDirectory: String?
        var name: String?
        var baseURL: String?
        var keyFile: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let value: String? = index + 1 < arguments.count ? arguments[index + 1] : nil
            switch argument {
            case "--state-dir", "--name", "--base-url", "--key-file":
                guard let value else { return usageError("\(argument) needs a value") }
                if argument == "--state-dir" { stateDirectory = value }
                if argument == "--key-file" { keyFile = value }
                if argument == "--name" { name = value }
                if argument == "--base-url" { baseURL = value }
                index += 2
            case "-h", "--help":
                print(usage)
                return 0
            default:
                guard path == nil, !argument.hasPrefix("--") else { return usageError("unexpected \(argument)") }
                path = argument
                index += 1
            }
        }
        guard let path else { return usageError("missing PATH") }
        guard let stateDirectory else { return usageError("missing --state-dir") }
        if let name, name.isEmpty { return usageError("--name must not be empty") }
        // `--base-url "$BASE"` with `BASE` unset: stored, "" became the account's upstream and failed every request.
        if let baseURL, baseURL.isEmpty { return usageError("--base-url must not be empty") }
        do {
            let line = try importAccount(
                path: path,
                stateDirectory: stateDirectory,
                name: name,
                baseURL: baseURL,
                keyFile: keyFile,
                environment: environment
            )
            print(line)
            return 0
        } catch {
            FileHandle.standardError.write(Data("sightline accounts import: \(error)\n".utf8))
            return 1
        }
    }

    /// Does the import and returns the line to print (`imported <name> <acct_…>`).
    static func importAccount(
        path: String,
        stateDirectory: String,
        name: String?,
        baseURL: String?,
        keyFile: String? = nil,
        environment: [String: String]
    ) throws -> String {
        // auth.json belongs to Codex, which manages its mode; read it whatever its permissions.
        let credentials = try AuthJSONImporter.parse(try AtomicFile.read(path, requirePrivate: false))
        // The key serve uses: the environment's, else the configured `pseudonymKeyFile` (`--key-file`), else the
        // state directory's. Without `--key-file` a proxy configured with its own file printed a pseudonym that never
        // appears in its logs, and left a stray `pseudonym.key` in the state directory. Read before anything is
        // written: a key that failed after the write exited 1 with the account imported.
        let key: [UInt8]
        if let keyFile, environment[PseudonymKeyStore.environmentVariable, default: ""].isEmpty {
            key = try PseudonymKeyStore.loadOrCreate(keyFile: keyFile)
        } else {
            key = try PseudonymKeyStore.loadOrCreate(
                explicitKeyHex: nil,
                environment: environment,
                stateDirectory: stateDirectory
            )
        }
        let pseudonymizer = try Pseudonymizer(key: key)
        let store = try AccountStore.open(stateDirectory: stateDirectory, seeds: [])
        guard
            let accountName = name ?? AuthJSONImporter.matchingEntryName(for: credentials, in: store.entries())
                ?? AuthJSONImporter.defaultName(for: credentials)
        else {
            throw AuthJSONError(reason: "missing_credentials", detail: "no account id; pass --name")
        }
        let entry = AuthJSONImporter.entry(
            from: credentials,
            name: accountName,
            baseURL: baseURL,
            existing: store.entry(named: accountName)
        )
        try store.upsert(entry)
        return "imported \(accountName) \(pseudonymizer.pseudonym(.acct, accountName))"
    }

    private static func usageError(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("sightline accounts import: \(message)\n\(usage)\n".utf8))
        return 2
    }
}
