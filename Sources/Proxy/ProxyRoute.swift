import HTTPServer

/// What a downstream request is for, decided from its method and path alone.
///
/// Pure: no I/O. The `metricLabel` is the closed `route` label value of `sightline_requests_total`.
/// Does not authenticate or look at the body.
enum ProxyRoute: Equatable, Sendable {
    /// `POST …/responses`; `upstreamSuffix` is what follows the account's base URL.
    case responses
    case responsesCompact
    /// `GET …/models` pass-through.
    case models
    case metrics
    case health
    case ready
    /// Any request under `/admin/`: `AdminEndpoint` decides whether the routes exist (a configured admin token),
    /// which action the path names (`AdminAction`) and whether the method fits.
    case admin
    /// Known path, wrong method.
    case methodNotAllowed(allowed: String)
    case notFound

    var metricLabel: String {
        switch self {
        case .responses: "responses"
        case .responsesCompact: "responses_compact"
        case .models: "models"
        case .metrics: "metrics"
        case .health, .ready: "health"
        case .admin: "admin"
        case .methodNotAllowed, .notFound: "other"
        }
    }

    /// The path appended to an account's base URL for this route (`/responses`, `/responses/compact`,
    /// `/models`); nil for routes served locally.
    var upstreamSuffix: String? {
        switch self {
        case .responses: "/responses"
        case .responsesCompact: "/responses/compact"
        case .models: "/models"
        default: nil
        }
    }

    /// Classifies a request. Responses live under `/v1`, `/backend-api/codex`, and the optional configured
    /// prefix (e.g. `/openai` serves `/openai/responses`). A WebSocket upgrade is a `GET` on a responses path
    /// and classifies as `.responses` so the caller can answer it.
    static func classify(method: String, path: String, prefixes: [String]) -> ProxyRoute {
        switch path {
        case "/metrics": return method == "GET" || method == "HEAD" ? .metrics : .methodNotAllowed(allowed: "GET")
        case "/healthz": return method == "GET" || method == "HEAD" ? .health : .methodNotAllowed(allowed: "GET")
        case "/readyz": return method == "GET" || method == "HEAD" ? .ready : .methodNotAllowed(allowed: "GET")
        default: break
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        for prefix in prefixes {
            guard trimmed.hasPrefix(prefix) else { continue }
            let rest = trimmed.dropFirst(prefix.count)
            switch rest {
            case "/responses":
                if method == "POST" { return .responses }
                if method == "GET" { return .responses }  // WebSocket upgrade (or a plain GET, refused later)
                return .methodNotAllowed(allowed: "POST")
            case "/responses/compact":
                return method == "POST" ? .responsesCompact : .methodNotAllowed(allowed: "POST")
            case "/models":
                return method == "GET" ? .models : .methodNotAllowed(allowed: "GET")
            default:
                continue
            }
        }
        // After the responses paths, so a configured prefix of `/admin` still serves `/admin/responses`.
        return path.hasPrefix("/admin/") ? .admin : .notFound
    }

    /// The built-in prefixes plus a configured one (normalised to start with `/` and not end with it).
    static func prefixes(configured: String?) -> [String] {
        var result = ["/v1", "/backend-api/codex"]
        if var p = configured, !p.isEmpty, p != "/" {
            if !p.hasPrefix("/") { p = "/" + p }
            while p.hasSuffix("/") { p.removeLast() }
            if !result.contains(p) { result.append(p) }
        }
        return result
    }
}
