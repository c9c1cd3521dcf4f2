/// How each peer's figures grow with concurrency and body size (issue #8 asks for it): the scenario tables'
/// figures side by side, one row per peer and one column per scenario, plus a row comparing Sightline with
/// nginx at each load and, for CPU where the run has both single-stream scenarios, a column for 50 KB → 1 MB.
extension SuiteReport {
    func growth() -> String {
        let proxies = suite.peers.map(\.name).filter { $0 != "direct" }
        let scenarios = suite.scenarios.map(\.id).filter { sid in proxies.contains { cell(sid, $0) != nil } }
        guard scenarios.count > 1 else { return "" }
        var md = "## Growth with concurrency and body size\n\n"
        md += "The figures of the scenario tables side by side: one row per peer, one column per scenario (its "
        md += "concurrency, history size and pacing in its own table). Across a row, how one peer grows; the last "
        md += "row, how far Sightline is from nginx at each load. The scenarios' pacing differs, so growth with "
        md += "concurrency reads best between scenarios of similar pacing, and growth with body size between c1-50k "
        md += "and c1-1m (*1 MB ÷ 50 KB* in the CPU table: the 1 MB figure over the 50 KB one at one stream). Added "
        md += "latencies are unpaired, as in the scenario tables. Peak RSS is the peer's process tree during the "
        md += "scenario, and memory it took in an earlier scenario still counts (the 1 MB scenarios run after "
        md += "c1000-50k), so that table reads for concurrency only.\n\n"
        md += growthTable("CPU s per 1000 streams", scenarios, proxies, digits: 3, compare: .ratio, bodyColumn: true) {
            cpuPer1000(cell($0, $1))
        }
        md += growthTable("Added first event p50, ms", scenarios, proxies, digits: 3, compare: .difference) {
            added($0, $1, 50, \.firstEvent)
        }
        md += growthTable("Added first event p99, ms", scenarios, proxies, digits: 3, compare: .difference) {
            added($0, $1, 99, \.firstEvent)
        }
        md += growthTable("Peak RSS, MB", scenarios, proxies, digits: 1, compare: .ratio) {
            cell($0, $1).flatMap { $0.result.peakRSS > 0 ? Double($0.result.peakRSS) / 1_048_576 : nil }
        }
        return md
    }

    /// How the last row sets Sightline's figure against nginx's: over it (CPU, memory) or minus it (added
    /// latencies, which can be zero or negative for nginx, so a ratio would mean nothing).
    enum GrowthComparison { case ratio, difference }

    func growthTable(
        _ title: String,
        _ scenarios: [String],
        _ proxies: [String],
        digits: Int,
        compare: GrowthComparison,
        bodyColumn wanted: Bool = false,
        _ value: (_ scenario: String, _ peer: String) -> Double?
    ) -> String {
        let bodyColumn = wanted && scenarios.contains("c1-50k") && scenarios.contains("c1-1m")
        func bodyGrowth(_ v: (String) -> Double?) -> String {
            guard let small = v("c1-50k"), let large = v("c1-1m"), small > 0 else { return "–" }
            return fmt(large / small, 1) + "×"
        }
        var md = "**\(title)**\n\n| Peer | " + scenarios.joined(separator: " | ")
        md += (bodyColumn ? " | 1 MB ÷ 50 KB" : "") + " |\n|---|"
        md += String(repeating: "---|", count: scenarios.count + (bodyColumn ? 1 : 0)) + "\n"
        for peer in proxies {
            md += "| \(peer) | " + scenarios.map { fmt(value($0, peer), digits) }.joined(separator: " | ")
            md += bodyColumn ? " | " + bodyGrowth { value($0, peer) } : ""
            md += " |\n"
        }
        if proxies.contains("sightline"), proxies.contains("nginx") {
            func compared(_ sid: String) -> Double? {
                guard let a = value(sid, "sightline"), let b = value(sid, "nginx") else { return nil }
                switch compare {
                case .ratio: return b > 0 ? a / b : nil
                case .difference: return a - b
                }
            }
            md += compare == .ratio ? "| sightline ÷ nginx | " : "| sightline − nginx | "
            md += scenarios.map { sid in
                compared(sid).map { compare == .ratio ? fmt($0, 2) + "×" : fmt($0, digits) } ?? "–"
            }.joined(separator: " | ")
            md += (bodyColumn ? " | –" : "") + " |\n"
        }
        return md + "\n"
    }
}
