import XCTest

@testable import CodexSimulator

final class FaultScheduleTests: XCTestCase {
    func testHeaderParsing() {
        XCTAssertEqual(SimulatedFault.parseHeader("stream_cut;after=2"), SimulatedFault(.streamCut, ["after": "2"]))
        XCTAssertEqual(SimulatedFault.parseHeader(" slow ; ms=5 "), SimulatedFault(.slow, ["ms": "5"]))
        XCTAssertNil(SimulatedFault.parseHeader("no_such_fault"))
        XCTAssertEqual(
            SimulatedFault.fromAdmin(["fault": "usage_limit", "account": "acct1", "count": 2, "resets_in_seconds": 60]),
            SimulatedFault(.usageLimit, ["resets_in_seconds": "60"])
        )
    }

    func testPrecedenceAndCounts() {
        var schedule = FaultSchedule()
        schedule.enqueue(account: "acct1", fault: SimulatedFault(.serverError), count: 2)
        schedule.enqueue(account: nil, fault: SimulatedFault(.badGateway), count: 1)
        schedule.enqueue(account: nil, fault: SimulatedFault(.tokenServerError), count: 1)
        let header = SimulatedFault(.slow)
        let steps: [(String?, SimulatedFault?, Bool, SimulatedFault.Kind?)] = [
            ("acct1", header, false, .slow),  // the header wins and consumes nothing
            ("acct2", nil, false, .badGateway),  // acct1's entry does not match acct2
            ("acct1", nil, false, .serverError),
            ("acct1", nil, false, .serverError),
            ("acct1", nil, false, nil),
            (nil, nil, true, .tokenServerError),  // token faults only for the token endpoint
            (nil, nil, true, nil),
        ]
        for (i, (account, header, token, expected)) in steps.enumerated() {
            XCTAssertEqual(
                schedule.next(account: account, header: header, tokenEndpoint: token)?.kind,
                expected,
                "step \(i)"
            )
        }
    }

    /// A `stage=handshake` fault answers a WebSocket upgrade and nothing else; an upgrade takes no other fault.
    func testHandshakeFaultsOnlyReachUpgrades() {
        var schedule = FaultSchedule()
        let handshake = SimulatedFault(.usageLimit, ["stage": "handshake"])
        schedule.enqueue(account: "acct1", fault: handshake, count: 1)
        schedule.enqueue(account: "acct1", fault: SimulatedFault(.serverError), count: 1)
        XCTAssertEqual(schedule.next(account: "acct1", header: nil, tokenEndpoint: false, handshake: true), handshake)
        XCTAssertNil(schedule.next(account: "acct1", header: nil, tokenEndpoint: false, handshake: true))
        XCTAssertEqual(schedule.next(account: "acct1", header: nil, tokenEndpoint: false)?.kind, .serverError)
        schedule.enqueue(account: nil, fault: handshake, count: 1)
        XCTAssertNil(schedule.next(account: "acct1", header: nil, tokenEndpoint: false), "a request skips it")
        XCTAssertEqual(schedule.next(account: "acct2", header: nil, tokenEndpoint: false, handshake: true), handshake)
    }

    /// A compact request took a queued stream fault it could not apply, so the next streamed request ran clean.
    func testCompactTakesOnlyFaultsThatAnswerBeforeTheBody() {
        var schedule = FaultSchedule()
        schedule.enqueue(account: nil, fault: SimulatedFault(.streamCut), count: 1)
        schedule.enqueue(account: nil, fault: SimulatedFault(.serverError), count: 1)
        schedule.standing = SimulatedFault(.slow)
        let steps: [(compact: Bool, header: SimulatedFault?, expected: SimulatedFault.Kind?)] = [
            (true, SimulatedFault(.responseFailed), .serverError),  // the header's stream fault is not applied
            (true, nil, nil),  // the queued stream_cut and the standing slow stay
            (false, nil, .streamCut),
            (false, nil, .slow),
            (true, SimulatedFault(.overloaded), .overloaded),
        ]
        for (i, step) in steps.enumerated() {
            let fault = schedule.next(
                account: "a",
                header: step.header,
                tokenEndpoint: false,
                withoutStream: step.compact
            )
            XCTAssertEqual(fault?.kind, step.expected, "step \(i)")
        }
        schedule.setRandom(probability: 1, faults: [SimulatedFault(.slow), SimulatedFault(.badGateway)], seed: 3)
        for _ in 0..<20 {
            XCTAssertEqual(
                schedule.next(account: "a", header: nil, tokenEndpoint: false, withoutStream: true)?.kind,
                .badGateway
            )
        }
    }

    func testOnlyStreamFaultsShapeTheStream() {
        let shaping = SimulatedFault.Kind.allCases.filter(\.shapesStream).map(\.rawValue).sorted()
        XCTAssertEqual(
            shaping,
            [
                "previous_response_not_found_in_stream", "response_failed", "response_incomplete", "silence", "slow",
                "stream_cut",
            ]
        )
    }

    func testStandingFaultAppliesWhenNothingElseChoseOne() {
        var schedule = FaultSchedule()
        schedule.standing = SimulatedFault(.slow, ["ms": "5"])
        schedule.enqueue(account: nil, fault: SimulatedFault(.serverError), count: 1)
        let header = SimulatedFault(.badGateway)
        XCTAssertEqual(schedule.next(account: "a", header: header, tokenEndpoint: false)?.kind, .badGateway)
        XCTAssertEqual(schedule.next(account: "a", header: nil, tokenEndpoint: false)?.kind, .serverError)
        XCTAssertEqual(
            schedule.next(account: "a", header: nil, tokenEndpoint: false),
            SimulatedFault(.slow, ["ms": "5"])
        )
        XCTAssertEqual(schedule.next(account: "a", header: nil, tokenEndpoint: false)?.kind, .slow, "not consumed")
        XCTAssertNil(schedule.next(account: "a", header: nil, tokenEndpoint: true), "not a token-endpoint fault")
        schedule.setRandom(probability: 1, faults: [SimulatedFault(.streamCut)], seed: 1)
        XCTAssertEqual(schedule.next(account: "a", header: nil, tokenEndpoint: false)?.kind, .streamCut)
        schedule.setRandom(probability: 0, faults: [], seed: 1)
        schedule.reset()
        XCTAssertNil(schedule.next(account: "a", header: nil, tokenEndpoint: false), "reset clears it")
    }

    func testRandomModeIsReproducibleAndRoughlyProportional() {
        func run(seed: UInt64) -> [SimulatedFault.Kind?] {
            var schedule = FaultSchedule()
            schedule.setRandom(
                probability: 0.25,
                faults: [SimulatedFault(.serverError), SimulatedFault(.streamCut)],
                seed: seed
            )
            return (0..<2000).map { _ in schedule.next(account: "a", header: nil, tokenEndpoint: false)?.kind }
        }
        let a = run(seed: 42)
        XCTAssertEqual(a, run(seed: 42))
        XCTAssertNotEqual(a, run(seed: 43))
        let hits = a.compactMap { $0 }.count
        XCTAssertTrue((400...600).contains(hits), "hits \(hits)")
        XCTAssertTrue(a.contains(.serverError) && a.contains(.streamCut))
    }

    func testRandomOffWithZeroProbability() {
        var schedule = FaultSchedule()
        schedule.setRandom(probability: 0, faults: [SimulatedFault(.serverError)], seed: 1)
        XCTAssertNil(schedule.random)
        XCTAssertNil(schedule.next(account: "a", header: nil, tokenEndpoint: false))
    }
}
