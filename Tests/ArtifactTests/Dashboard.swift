import Foundation

/// One Grafana dashboard file of `dashboards/`, decoded with `JSONSerialization` as a loose JSON tree.
///
/// Does not validate anything itself (the tests do) and never writes. Concurrency: used by one test at a
/// time; not `Sendable` because it holds `[String: Any]`.
struct Dashboard {
    /// One query of one panel.
    struct Target {
        let panelID: Int
        let panelTitle: String
        let refID: String
        let expression: String
    }

    let file: String
    let model: [String: Any]

    init(url: URL) throws {
        file = url.lastPathComponent
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let model = object as? [String: Any] else {
            throw ArtifactError(reason: "dashboard_not_an_object", detail: url.lastPathComponent)
        }
        self.model = model
    }

    static func loadAll() throws -> [Dashboard] {
        try Repository.files(in: "dashboards", suffix: ".json").map(Dashboard.init(url:))
    }

    var uid: String { model["uid"] as? String ?? "" }

    /// Every panel, including those nested in rows, in file order.
    var panels: [[String: Any]] {
        func flatten(_ list: [[String: Any]]) -> [[String: Any]] {
            list.flatMap { panel in [panel] + flatten(panel["panels"] as? [[String: Any]] ?? []) }
        }
        return flatten(model["panels"] as? [[String: Any]] ?? [])
    }

    /// Panels that show data; rows only group them and carry no query.
    var dataPanels: [[String: Any]] { panels.filter { $0["type"] as? String != "row" } }

    var targets: [Target] {
        dataPanels.flatMap { panel -> [Target] in
            let id = panel["id"] as? Int ?? -1
            let title = panel["title"] as? String ?? ""
            return (panel["targets"] as? [[String: Any]] ?? []).map {
                Target(
                    panelID: id,
                    panelTitle: title,
                    refID: $0["refId"] as? String ?? "",
                    expression: $0["expr"] as? String ?? ""
                )
            }
        }
    }

    var templateVariables: [[String: Any]] {
        (model["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
    }
}

/// A malformed artifact, with a stable reason for the failure message.
struct ArtifactError: Error, CustomStringConvertible {
    let reason: String
    let detail: String
    var description: String { "\(reason): \(detail)" }
}
