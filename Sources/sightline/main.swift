import CodexSimulator
import Foundation
import LogRedaction
import Proxy

// `sightline` — one binary, several subcommands. Each subcommand lives in its own file as a
// `…Command` with a `run(arguments:) -> Int32`; this file only dispatches.
let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "demo"
let rest = Array(arguments.dropFirst())
let status: Int32
switch command {
case "serve":
    status = ServeCommand.run(arguments: rest)
case "demo":
    status = DemoCommand.run(arguments: rest)
case "simulator":
    status = SimulatorCommand.run(arguments: rest)
case "hash-id":
    let r = HashIDCommand.run(
        arguments: rest,
        environment: ProcessInfo.processInfo.environment,
        stdin: { readLine(strippingNewline: true) }
    )
    // Only a pseudonym (or the help asked for) goes to standard output: `P=$(sightline hash-id …)` captured an error
    // message as the pseudonym, and the grep that followed found nothing without saying why.
    let stream = r.exitCode == 0 ? FileHandle.standardOutput : FileHandle.standardError
    stream.write(Data(r.output.utf8))
    status = r.exitCode
case "accounts" where rest.first == "import":
    status = AccountsImportCommand.run(
        arguments: Array(rest.dropFirst()),
        environment: ProcessInfo.processInfo.environment
    )
case "check-config":
    status = CheckConfigCommand.run(arguments: rest)
case "version", "--version":
    FileHandle.standardOutput.write(Data("sightline \(SightlineProxy.version)\n".utf8))
    status = 0
case "help", "--help", "-h":
    FileHandle.standardOutput.write(Data((Usage.text + "\n").utf8))
    status = 0
default:
    FileHandle.standardError.write(Data("sightline: unknown command '\(command)'\n\n\(Usage.text)\n".utf8))
    status = 2
}
exit(status)
