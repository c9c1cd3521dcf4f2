import Foundation
import Glibc

/// Polls `condition` every 2 ms until it holds or `timeout` seconds pass; returns whether it held. The one
/// waiting helper of the unit-test targets: tests wait for a state, never for a fixed time.
public func pollUntil(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}
