import Foundation
import Glibc
import SightlineTestSupport

/// A throwaway HTTPS server for TLS tests: a self-signed certificate made with `openssl req -x509` in a temp
/// directory, served by a few lines of Python (`http.server` + `ssl.SSLContext`) on 127.0.0.1, on a `TestPorts`
/// port (another is tried when it is taken).
/// Every GET answers `200` with body `tls-ok`, except a WebSocket upgrade, which gets a valid `101` and is then
/// read (and ignored) until the client goes. `stop()` terminates the Python process and removes the files.
final class UpstreamTLSTestServer {
    let port: UInt16
    let certificatePath: String
    private let directory: URL
    private let process: Process
    /// The Python server's stdin; it exits when this closes.
    private let lifeline: Pipe

    private static let script = """
        import base64, hashlib, http.server, os, ssl, sys, threading
        # Exit when the test process goes away (stdin reaches EOF), even if it was killed.
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    key = self.headers.get("Sec-WebSocket-Key", "") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
                    self.send_response(101)
                    self.send_header("Upgrade", "websocket")
                    self.send_header("Connection", "Upgrade")
                    self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
                    self.end_headers()
                    self.wfile.flush()
                    while self.rfile.read1(4096):
                        pass
                    self.close_connection = True
                    return
                body = b"tls-ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePath = directory.appendingPathComponent("cert.pem").path
        let keyPath = directory.appendingPathComponent("key.pem").path
        try Self.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyPath, "-out", certificatePath,
            ]
        )
        // A taken port makes the Python server exit before it prints: try another.
        for _ in 0..<10 {
            let lifeline = Pipe()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", Self.script, certificatePath, keyPath, String(TestPorts.free())]
            let output = Pipe()
            process.standardInput = lifeline
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            while !text.contains("\n") {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            if let port = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.process = process
                self.lifeline = lifeline
                self.port = port
                return
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
        throw UpstreamTestError("python TLS server did not start on any port")
    }

    func stop() {
        // SIGKILL, not terminate(): children of Foundation's Process inherit a mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? lifeline.fileHandleForWriting.close()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw UpstreamTestError("\(tool) exited \(process.terminationStatus)")
        }
    }
}
