import Foundation

extension SightlineStack {
    /// The value of one exposed series of the proxy's `/metrics`, e.g. `sightline_in_flight_requests` or
    /// `name{label="v"}` written as exposed. Throws when the series is absent.
    func metric(_ series: String) throws -> Double {
        let body = try HTTPTestClient.get(port: proxyPort, path: "/metrics").bodyText
        for line in body.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last!) ?? .nan
        }
        throw TestClientError.io("no series \(series)")
    }

    /// The sum of every exposed series that starts with `prefix` and contains `containing` (e.g. one label
    /// value across the accounts).
    func metricSum(prefix: String, containing: String) throws -> Double {
        let body = try HTTPTestClient.get(port: proxyPort, path: "/metrics").bodyText
        return body.split(separator: "\n").filter { $0.hasPrefix(prefix) && $0.contains(containing) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// `sightline_requests_total` of the responses route by status class and transport.
    func requests(_ statusClass: String, transport: String = "http") throws -> Double {
        try metric(
            #"sightline_requests_total{route="responses",status_class="\#(statusClass)",transport="\#(transport)"}"#
        )
    }

    /// `sightline_upstream_attempts_total` with `outcome`, summed over the accounts.
    func upstreamAttempts(_ outcome: String) throws -> Double {
        try metricSum(prefix: "sightline_upstream_attempts_total{", containing: #"outcome="\#(outcome)""#)
    }

    /// One recovery decision's `attempted`, `succeeded` and `gave_up` counts.
    func decision(_ name: String) throws -> (attempted: Double, succeeded: Double, gaveUp: Double) {
        let text = try HTTPTestClient.get(port: proxyPort, path: "/metrics").bodyText
        func count(_ outcome: String) -> Double {
            Self.sample(#"sightline_recovery_decisions_total{decision="\#(name)",outcome="\#(outcome)"}"#, in: text)
                ?? -1
        }
        return (count("attempted"), count("succeeded"), count("gave_up"))
    }
}
