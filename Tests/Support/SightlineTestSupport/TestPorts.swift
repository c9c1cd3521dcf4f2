import Foundation
import Glibc

/// Loopback ports for test servers: below 32768, where the kernel's ephemeral range (and so every outgoing
/// connection's local port) begins, and chosen at random so parallel runs on one machine rarely meet; a port
/// found taken is replaced by another.
///
/// It does not reserve anything: between a probe and the server's own bind another process may take the port,
/// so starting a server goes through `withFreePort`, which retries with another one when the start fails.
public enum TestPorts {
    public static let range = 20_000..<32_000
    private static let tries = 50

    /// A random port of `range` nobody listens on right now (a plain bind succeeds, so no `SO_REUSEPORT`
    /// listener of another run holds it either). Falls back to an unprobed random port.
    public static func free() -> Int {
        for _ in 0..<tries {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { break }
            let port = Int.random(in: range)
            let bound = bind(fd, UInt16(port))
            close(fd)
            if bound { return port }
        }
        return Int.random(in: range)
    }

    /// Runs `start` with a free port until it does not throw (at most 50 times); rethrows the last error.
    public static func withFreePort<T>(_ start: (Int) throws -> T) throws -> T {
        var lastError: (any Error)?
        for _ in 0..<tries {
            do { return try start(free()) } catch { lastError = error }
        }
        throw lastError!
    }

    /// Binds `fd` to a free 127.0.0.1 port of `range` and returns it; nil if none could be had.
    public static func bindLoopback(_ fd: Int32) -> UInt16? {
        for _ in 0..<tries {
            let port = UInt16(Int.random(in: range))
            if bind(fd, port) { return port }
        }
        return nil
    }

    private static func bind(_ fd: Int32, _ port: UInt16) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
