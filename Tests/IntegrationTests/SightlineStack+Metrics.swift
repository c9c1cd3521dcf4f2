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
}
