import Foundation
import XCTest

@testable import LogRedaction

final class FileLogSinkTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "sightline-filelog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Decompresses with the system `gzip`, proving the segments are real gzip files.
    private func gunzip(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "gzip -dc \(path)")
        return String(decoding: data, as: UTF8.self)
    }

    func testEachRecordIsOnDiskWhenWriteReturns() throws {
        let path = directory + "/sightline.log"
        let sink = try FileLogSink(path: path)
        sink.write(#"{"a":1}"#)
        XCTAssertEqual(try contents(path), "{\"a\":1}\n")
        sink.write(#"{"b":"ü"}"#)
        XCTAssertEqual(try contents(path), "{\"a\":1}\n{\"b\":\"ü\"}\n")
        // Reopening appends instead of truncating.
        let again = try FileLogSink(path: path)
        again.write("{}")
        XCTAssertEqual(try contents(path), "{\"a\":1}\n{\"b\":\"ü\"}\n{}\n")
    }

    func testRotatesIntoGzipSegmentsAndKeepsN() throws {
        let path = directory + "/sightline.log"
        let sink = try FileLogSink(path: path, maxBytes: 1000, keepSegments: 2)
        let lines = (0..<60).map {
            String(format: "{\"n\":%03d,\"pad\":\"%@\"}", $0, String(repeating: "x", count: 80))
        }
        for line in lines { sink.write(line) }
        sink.waitForPendingRotations()

        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        XCTAssertEqual(names, ["sightline.log", "sightline.log.1.gz", "sightline.log.2.gz"])
        let current = try contents(path)
        let newest = try gunzip(sink.segmentPath(1))
        let older = try gunzip(sink.segmentPath(2))
        for text in [current, newest, older] {
            XCTAssertLessThanOrEqual(text.utf8.count, 1000)
            XCTAssertTrue(text.hasSuffix("\n"))
        }
        // The three files hold the newest records, contiguous and in order.
        let kept = (older + newest + current).split(separator: "\n").map(String.init)
        XCTAssertEqual(kept, Array(lines.suffix(kept.count)))
        XCTAssertGreaterThan(kept.count, 20)
    }

    func testDiskFullFallsBackAndKeepsServing() throws {
        let fallback = InMemoryLogSink()
        let sink = try FileLogSink(path: "/dev/full", fallback: fallback)
        sink.write(#"{"first":1}"#)
        sink.write(#"{"second":2}"#)
        XCTAssertEqual(sink.writeFailures, 2)
        let lines = fallback.lines
        XCTAssertEqual(lines.count, 3, "one notice, then every record")
        let notice = fallback.records[0]
        XCTAssertEqual(notice["event_name"] as? String, "sightline.log.file_write_failed")
        XCTAssertEqual(notice["severity_text"] as? String, "ERROR")
        XCTAssertEqual((notice["attributes"] as? [String: Any])?["error.type"] as? String, "no_space")
        XCTAssertEqual(Array(lines.dropFirst()), [#"{"first":1}"#, #"{"second":2}"#])
    }

    func testUnopenableFileThrowsAtInit() {
        XCTAssertThrowsError(try FileLogSink(path: directory + "/missing/dir/x.log")) { error in
            XCTAssertEqual((error as? FileLogSink.OpenError)?.reason, "open_failed")
        }
    }

    func testLeftoverRotationIsCompressedAtStart() throws {
        let path = directory + "/sightline.log"
        try "{\"left\":\"over\"}\n".write(toFile: path + ".rotating.1.1", atomically: false, encoding: .utf8)
        let sink = try FileLogSink(path: path, keepSegments: 3)
        sink.waitForPendingRotations()
        XCTAssertEqual(try gunzip(sink.segmentPath(1)), "{\"left\":\"over\"}\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".rotating.1.1"))
    }

    func testStandardStreamSinkWritesWithoutCrashing() {
        // Output lands in the test log; this checks the write path runs and returns.
        StandardStreamLogSink.standardError.write(#"{"test":"standard stream sink"}"#)
        XCTAssertNotNil(StandardStreamLogSink(.standardOutput))
    }
}
