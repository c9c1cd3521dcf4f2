import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` families (client_golang's names and HELP texts), read from /proc per scrape.
///
/// Register with `registry.addCollector(ProcessMetrics.collect)`. Parsing is pure (`ProcessStat`,
/// `families(...)`) and separate from the /proc reads in `collect()`. A file that cannot be read or
/// parsed drops only the families it feeds; nothing throws. Linux only: elsewhere it yields nothing.
/// It does not export `process_virtual_memory_max_bytes`, network or heap metrics.
/// Concurrency: stateless; safe from any thread.
public enum ProcessMetrics {
    /// Every family this collector can emit, for the docs catalog test.
    public static let familyNames: [String] = [
        "process_cpu_seconds_total", "process_max_fds", "process_open_fds", "process_resident_memory_bytes",
        "process_start_time_seconds", "process_virtual_memory_bytes",
    ]

    /// The fields of `/proc/self/stat` this collector uses, in their raw units.
    public struct ProcessStat: Equatable, Sendable {
        public var utimeTicks: UInt64
        public var stimeTicks: UInt64
        public var startTimeTicks: UInt64
        public var virtualMemoryBytes: UInt64
        public var residentPages: UInt64

        /// Parses one `/proc/<pid>/stat` line. Field 2 (`comm`) may contain spaces and `)`, so fields are
        /// split after the *last* `)`: the next token is field 3.
        public init?(parsing line: String) {
            guard let close = line.lastIndex(of: ")") else { return nil }
            let fields = line[line.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
            // fields[0] is field 3 (state), so field N is fields[N - 3].
            func field(_ number: Int) -> UInt64? {
                let index = number - 3
                return index < fields.count ? UInt64(fields[index]) : nil
            }
            guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23),
                let rss = field(24)
            else { return nil }
            self.utimeTicks = utime
            self.stimeTicks = stime
            self.startTimeTicks = start
            self.virtualMemoryBytes = vsize
            self.residentPages = rss
        }
    }

    /// `btime` (boot time, seconds since the epoch) from `/proc/stat`.
    public static func parseBootTime(_ procStat: String) -> UInt64? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The soft limit of `Max open files` from `/proc/self/limits`; nil when absent or `unlimited`.
    public static func parseMaxOpenFiles(_ limits: String) -> UInt64? {
        for line in limits.split(separator: "\n") where line.hasPrefix("Max open files") {
            let columns = line.dropFirst("Max open files".count).split(separator: " ")
            return columns.first.flatMap { UInt64($0) }
        }
        return nil
    }

    /// Builds the families from already-read values; each nil input drops the families it feeds.
    public static func families(
        stat: ProcessStat?,
        bootTime: UInt64?,
        maxOpenFiles: UInt64?,
        openFiles: Int?,
        clockTicksPerSecond: Double,
        pageSize: Double
    ) -> [CollectedFamily] {
        var out: [CollectedFamily] = []
        func add(_ name: String, _ help: String, _ kind: CollectedFamily.Kind, _ value: Double?) {
            guard let value else { return }
            out.append(CollectedFamily(name: name, help: help, kind: kind, samples: [CollectedSample(value: value)]))
        }
        let ticks = clockTicksPerSecond > 0 ? clockTicksPerSecond : 100
        add(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            .counter,
            stat.map { Double($0.utimeTicks + $0.stimeTicks) / ticks }
        )
        add("process_open_fds", "Number of open file descriptors.", .gauge, openFiles.map { Double($0) })
        add("process_max_fds", "Maximum number of open file descriptors.", .gauge, maxOpenFiles.map { Double($0) })
        add(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            .gauge,
            stat.map { Double($0.virtualMemoryBytes) }
        )
        add(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            .gauge,
            stat.map { Double($0.residentPages) * pageSize }
        )
        var startTime: Double?
        if let stat, let bootTime { startTime = Double(bootTime) + Double(stat.startTimeTicks) / ticks }
        add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", .gauge, startTime)
        return out
    }

    /// Reads /proc and returns the families; the collector function to pass to `addCollector`.
    @Sendable public static func collect() -> [CollectedFamily] {
        #if os(Linux)
        let stat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)).flatMap(ProcessStat.init(parsing:))
        let bootTime = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)).flatMap(parseBootTime)
        let limits = (try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8)).flatMap(parseMaxOpenFiles)
        // The directory listing holds one descriptor of its own while it runs; it is not counted.
        let openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map {
            max(0, $0.count - 1)
        }
        return families(
            stat: stat,
            bootTime: bootTime,
            maxOpenFiles: limits,
            openFiles: openFiles,
            clockTicksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE)))
        )
        #else
        return []
        #endif
    }
}
