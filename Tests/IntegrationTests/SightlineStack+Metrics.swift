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

    /// `sightline_upstream_attempts_total` with `outcome`, summed over the accounts.
    func upstreamAttempts(_ outcome: String) throws -> Double {
        let body = try HTTPTestClient.get(port: proxyPort, path: "/metrics").bodyText
        return body.split(separator: "\n")
            .filter { $0.hasPrefix("sightline_upstream_attempts_total{") && $0.contains(#"outcome="\#(outcome)""#) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
}
