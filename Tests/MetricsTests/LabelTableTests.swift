import Synchronization
import XCTest

@testable import Metrics

final class LabelTableTests: XCTestCase {
    /// A child that remembers the label values it was made for.
    private final class Tagged: Sendable {
        let values: [String]
        init(_ values: [String]) { self.values = values }
    }

    func testEveryCombinationFindsTheChildMadeForIt() {
        // Sets of unequal lengths, so a radix mixed up between two labels lands on another combination.
        let sets = [["a", "b"], ["x", "y", "z"], ["1", "2", "3", "4"]]
        let made = Mutex(0)
        let table = LabelTable<Tagged>(sets) { values in
            made.withLock { $0 += 1 }
            return Tagged(values)
        }
        XCTAssertEqual(made.withLock { $0 }, 24, "every combination made once, at init")
        for a in sets[0] {
            for b in sets[1] {
                for c in sets[2] {
                    XCTAssertEqual(table[a, b, c].values, [a, b, c])
                    XCTAssertTrue(table[a, b, c] === table[a, b, c], "the same child every time")
                }
            }
        }
        XCTAssertEqual(made.withLock { $0 }, 24, "lookups inside the sets make nothing")
    }

    func testFourLabelsTakeTheGeneralLookup() {
        let sets = [["a", "b"], ["x", "y", "z"], ["1", "2"], ["p", "q", "r", "s"]]
        let table = LabelTable<Tagged>(sets) { Tagged($0) }
        for combination in LabelTable<Tagged>.product(sets) {
            let child = table[combination[0], combination[1], combination[2], combination[3]]
            XCTAssertEqual(child.values, combination)
            XCTAssertTrue(child === table[combination[0], combination[1], combination[2], combination[3]])
        }
        XCTAssertEqual(table["a", "x", "1", "t"].values, ["a", "x", "1", "t"])
    }

    func testOneAndTwoLabelTablesAndValuesOutsideTheSets() {
        let one = LabelTable<Tagged>([["primary", "secondary"]]) { Tagged($0) }
        XCTAssertEqual(one["secondary"].values, ["secondary"])
        let two = LabelTable<Tagged>([["http", "websocket"], ["ok", "error", "timeout"]]) { Tagged($0) }
        XCTAssertEqual(two["websocket", "timeout"].values, ["websocket", "timeout"])
        XCTAssertEqual(two["http", "ok"].values, ["http", "ok"])
        // Outside the sets, or the wrong number of values: the family's own lookup, for exactly those values.
        XCTAssertEqual(one["tertiary"].values, ["tertiary"])
        XCTAssertEqual(two["http", "lost"].values, ["http", "lost"])
        XCTAssertEqual(two["http"].values, ["http"])
        XCTAssertEqual(one["primary", "ok"].values, ["primary", "ok"])
    }
}
