import XCTest

@testable import Metrics

final class ProcessMetricsTests: XCTestCase {
    /// A comm with spaces and `)` (Linux allows both); fields after it are a real line's shape.
    private let hostileStat =
        "4242 (evil) 1 2 (x) y) S 1 4242 4242 0 -1 4194560 3000 0 0 0 250 150 0 0 20 0 4 0 12345 "
        + "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

    func testStatLineWithHostileCommSplitsAfterLastParen() throws {
        let stat = try XCTUnwrap(ProcessMetrics.ProcessStat(parsing: hostileStat))
        XCTAssertEqual(
            stat,
            try XCTUnwrap(
                ProcessMetrics.ProcessStat(
                    parsing: hostileStat.replacingOccurrences(of: "(evil) 1 2 (x) y)", with: "(sightline)")
                )
            )
        )
        XCTAssertEqual(stat.utimeTicks, 250)
        XCTAssertEqual(stat.stimeTicks, 150)
        XCTAssertEqual(stat.startTimeTicks, 12345)
        XCTAssertEqual(stat.virtualMemoryBytes, 123_456_789)
        XCTAssertEqual(stat.residentPages, 2048)
        XCTAssertNil(ProcessMetrics.ProcessStat(parsing: "12 (truncated) S 1 2"))
    }

    func testFamiliesFromFixtureGolden() throws {
        let registry = MetricRegistry()
        let stat = ProcessMetrics.ProcessStat(parsing: hostileStat)
        let limits = """
            Limit                     Soft Limit           Hard Limit           Units
            Max open files            1024                 4096                 files

            """
        let families = ProcessMetrics.families(
            stat: stat,
            bootTime: ProcessMetrics.parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
            maxOpenFiles: ProcessMetrics.parseMaxOpenFiles(limits),
            openFiles: 12,
            clockTicksPerSecond: 100,
            pageSize: 4096
        )
        registry.addCollector { families }
        XCTAssertEqual(
            registry.render(),
            """
            # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
            # TYPE process_cpu_seconds_total counter
            process_cpu_seconds_total 4
            # HELP process_max_fds Maximum number of open file descriptors.
            # TYPE process_max_fds gauge
            process_max_fds 1024
            # HELP process_open_fds Number of open file descriptors.
            # TYPE process_open_fds gauge
            process_open_fds 12
            # HELP process_resident_memory_bytes Resident memory size in bytes.
            # TYPE process_resident_memory_bytes gauge
            process_resident_memory_bytes 8388608
            # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
            # TYPE process_start_time_seconds gauge
            process_start_time_seconds 1700000123.45
            # HELP process_virtual_memory_bytes Virtual memory size in bytes.
            # TYPE process_virtual_memory_bytes gauge
            process_virtual_memory_bytes 123456789

            """
        )
    }

    func testUnlimitedOrMissingInputsDropOnlyTheirFamilies() {
        XCTAssertNil(
            ProcessMetrics.parseMaxOpenFiles("Max open files            unlimited            unlimited  files\n")
        )
        let families = ProcessMetrics.families(
            stat: nil,
            bootTime: nil,
            maxOpenFiles: nil,
            openFiles: 3,
            clockTicksPerSecond: 100,
            pageSize: 4096
        )
        XCTAssertEqual(families.map(\.name), ["process_open_fds"])
    }

    func testRealProcReadsPlausibleValues() throws {
        #if os(Linux)
        let families = Dictionary(uniqueKeysWithValues: ProcessMetrics.collect().map { ($0.name, $0) })
        XCTAssertEqual(Set(families.keys), Set(ProcessMetrics.familyNames))
        func value(_ name: String) throws -> Double { try XCTUnwrap(families[name]?.samples.first?.value) }
        XCTAssertGreaterThan(try value("process_resident_memory_bytes"), 1_000_000)
        XCTAssertGreaterThan(try value("process_virtual_memory_bytes"), try value("process_resident_memory_bytes"))
        XCTAssertGreaterThanOrEqual(try value("process_open_fds"), 3)
        XCTAssertGreaterThanOrEqual(try value("process_max_fds"), try value("process_open_fds"))
        XCTAssertGreaterThan(try value("process_cpu_seconds_total"), 0)
        let start = try value("process_start_time_seconds")
        let now = Date().timeIntervalSince1970
        XCTAssertLessThanOrEqual(start, now + 1)
        XCTAssertGreaterThan(start, now - 24 * 3600, "test process started within a day")
        #else
        throw XCTSkip("/proc is Linux-only")
        #endif
    }
}
