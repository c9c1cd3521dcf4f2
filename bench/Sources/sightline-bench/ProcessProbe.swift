import Foundation
import Glibc

/// Reads CPU time and resident memory of a process tree from `/proc` (Linux only).
///
/// A peer may be several processes (codex-lb's server forks workers), so every reading covers the given
/// pid and all its descendants. Does not keep state; each call reads `/proc` afresh.
struct ProcessProbe {
    let rootPID: Int32

    /// CPU time of a process tree, in seconds: `user` is utime, `total` adds stime (the kernel's work on the
    /// tree's behalf: its sockets, system calls and page faults).
    struct CPU {
        var total = 0.0
        var user = 0.0

        static func - (a: CPU, b: CPU) -> CPU { CPU(total: a.total - b.total, user: a.user - b.user) }
    }

    /// utime + stime of the tree, in seconds.
    func cpuSeconds() -> Double { cpu().total }

    /// utime and utime + stime of the tree, from one reading of each process.
    func cpu() -> CPU {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let sum = tree().reduce(CPU()) { sum, pid in
            let t = Self.cpuTicks(pid)
            return CPU(total: sum.total + t.user + t.system, user: sum.user + t.user)
        }
        return CPU(total: sum.total / ticks, user: sum.user / ticks)
    }

    /// VmRSS of the tree, in bytes.
    func rssBytes() -> Int {
        tree().reduce(0) { $0 + Self.rss($1) }
    }

    func tree() -> [Int32] {
        var parents: [Int32: [Int32]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = Self.read("/proc/\(pid)/stat") else { continue }
            let fields = Self.statFields(stat)
            if fields.count > 1, let ppid = Int32(fields[1]) { parents[ppid, default: []].append(pid) }
        }
        var out: [Int32] = []
        var queue = [rootPID]
        while let pid = queue.popLast() {
            out.append(pid)
            queue.append(contentsOf: parents[pid] ?? [])
        }
        return out
    }

    static func cpuTicks(_ pid: Int32) -> (user: Double, system: Double) {
        guard let stat = read("/proc/\(pid)/stat") else { return (0, 0) }
        let f = statFields(stat)
        // Fields after the command: state(0) ppid(1) … utime(11) stime(12).
        guard f.count > 12, let u = Double(f[11]), let s = Double(f[12]) else { return (0, 0) }
        return (u, s)
    }

    static func rss(_ pid: Int32) -> Int {
        guard let status = read("/proc/\(pid)/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
            return (kb ?? 0) * 1024
        }
        return 0
    }

    /// The fields after `(comm)`, which may itself contain spaces.
    static func statFields(_ stat: String) -> [Substring] {
        guard let close = stat.lastIndex(of: ")") else { return [] }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
