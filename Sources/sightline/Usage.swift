/// The `sightline help` text, and each strict command's usage line (printed after a usage error, exit 2).
enum Usage {
    static let text = """
        usage: sightline <command> [options]

          demo         [--port 8787] [--simulator-port 8788] [--state-dir .sightline-demo]
                       [--delta-delay-ms 40] [--log-stdout true|false]
                       the Codex backend simulator with three accounts and the proxy in front of it;
                       each run removes the state directory's account and continuity files first
          serve        --config FILE            run the proxy
          simulator    [--port N] [--accounts 3] [--config FILE] [--host H]   run only the simulator
          hash-id      --kind account|principal|session|turn|rid [--key-file F | --state-dir D] (VALUE | --stdin)
                       print the pseudonym an operator greps the logs for
          accounts import PATH --state-dir DIR [--name NAME] [--base-url URL] [--key-file F]
                       add a Codex auth.json (ChatGPT tokens or API key) to the pool's state
          check-config --config FILE            validate a configuration file
          version

        Options take `--flag value` or `--flag=value`.
        """

    static let serve = "usage: sightline serve --config FILE"
    static let checkConfig = "usage: sightline check-config --config FILE"
    static let simulator = "usage: sightline simulator [--port N] [--accounts 3] [--config FILE] [--host H]"
    static let demo = """
        usage: sightline demo [--port 8787] [--simulator-port 8788] [--state-dir .sightline-demo]
                              [--delta-delay-ms 40] [--log-stdout true|false]
        """
}
