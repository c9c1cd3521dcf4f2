import Foundation
import HTTPServer

extension SimulatorEngine {
    /// Handles the admin routes under `/__sim/`. Admin requests are not recorded in the request log and
    /// need no credentials (the simulator only listens on loopback in tests and the demo).
    func admin(method: String, path: String, body: [UInt8]) -> SimulatorOutcome {
        let rest = Array(path.split(separator: "/").map(String.init).dropFirst())  // after "__sim"
        switch (method, rest.joined(separator: "/")) {
        case ("POST", "faults"):
            return queueFaults(body)
        case ("POST", "random-faults"):
            return randomFaults(body)
        case ("POST", "standing-fault"):
            return standingFault(body)
        case ("GET", "requests"):
            let records = state.withLock { $0.log.records }
            return Self.json(200, Self.encode(records))
        case ("POST", "reset"):
            var fresh = SimulatorState(configuration: configuration, now: clock())
            state.withLock { state in
                // Ids keep counting: the instance tag stays, so a fresh counter would hand out ids again that
                // clients (or their logs) already hold.
                fresh.responseCounter = state.responseCounter
                state = fresh
            }
            return Self.json(200, Array(#"{"reset":true}"#.utf8))
        case ("GET", "accounts"):
            return Self.json(200, Self.encode(accountStatuses()))
        case ("POST", _)
        where rest.count == 3 && rest[0] == "accounts" && ["invalidate-access", "invalidate-refresh"].contains(rest[2]):
            let (name, action) = (rest[1], rest[2])
            let found = state.withLock { state in
                action == "invalidate-access"
                    ? state.ledger.invalidateAccess(account: name) : state.ledger.invalidateRefresh(account: name)
            }
            guard found else { return Self.json(404, ErrorBodies.invalidRequest("Unknown account \(name).")) }
            return Self.json(200, Array("{\"account\":\(JSONText.quote(name)),\"\(action)\":true}".utf8))
        case ("POST", _) where rest.count == 3 && rest[0] == "accounts" && rest[2] == "login":
            let name = rest[1]
            let outcome = state.withLock { $0.ledger.login(account: name, now: clock()) }
            guard case .rotated(_, let access, let refresh, let id) = outcome,
                let accountId = state.withLock({ $0.ledger.tokens(of: name)?.account.accountId })
            else { return Self.json(404, ErrorBodies.invalidRequest("Unknown account \(name).")) }
            let body =
                "{\"account\":\(JSONText.quote(name)),\"account_id\":\(JSONText.quote(accountId)),"
                + "\"access_token\":\(JSONText.quote(access)),\"refresh_token\":\(JSONText.quote(refresh)),"
                + "\"id_token\":\(JSONText.quote(id))}"
            return Self.json(200, Array(body.utf8))
        default:
            return Self.json(404, ErrorBodies.invalidRequest("Unknown admin route \(method) \(path)."))
        }
    }

    /// `{"account": name|null, "fault": name, "count": N, …params}` or an array of such objects.
    private func queueFaults(_ body: [UInt8]) -> SimulatorOutcome {
        let parsed = try? JSONSerialization.jsonObject(with: Data(body))
        let objects = (parsed as? [[String: Any]]) ?? ((parsed as? [String: Any]).map { [$0] } ?? [])
        guard !objects.isEmpty else { return Self.json(400, ErrorBodies.invalidRequest("Expected a fault object.")) }
        var entries: [(String?, SimulatedFault, Int)] = []
        for object in objects {
            guard let fault = SimulatedFault.fromAdmin(object) else {
                let name = object["fault"] as? String ?? "(missing)"
                return Self.json(
                    400,
                    ErrorBodies.invalidRequest("Unknown fault \(name).", param: "fault", code: "unknown_sim_fault")
                )
            }
            if !fault.isApplicable { return Self.inapplicable(fault) }
            let account = object["account"] as? String
            if let account, state.withLock({ $0.ledger.tokens(of: account) == nil }) {
                return Self.json(400, ErrorBodies.invalidRequest("Unknown account \(account).", param: "account"))
            }
            entries.append((account, fault, (object["count"] as? Int) ?? 1))
        }
        let queued = state.withLock { state in
            for (account, fault, count) in entries {
                state.faults.enqueue(account: account, fault: fault, count: count)
            }
            return state.faults.queue.count
        }
        return Self.json(200, Array("{\"queued\":\(queued)}".utf8))
    }

    /// `{"fault": name, …params}` sets the standing fault; `{"fault": null}` or `{}` clears it.
    private func standingFault(_ body: [UInt8]) -> SimulatorOutcome {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return Self.json(400, ErrorBodies.invalidRequest("Expected a JSON object."))
        }
        var fault: SimulatedFault?
        if let name = object["fault"], !(name is NSNull) {
            guard let parsed = SimulatedFault.fromAdmin(object) else {
                return Self.json(
                    400,
                    ErrorBodies.invalidRequest("Unknown fault \(name).", param: "fault", code: "unknown_sim_fault")
                )
            }
            if !parsed.isApplicable { return Self.inapplicable(parsed) }
            fault = parsed
        }
        state.withLock { $0.faults.standing = fault }
        let name = fault.map { JSONText.quote($0.kind.rawValue) } ?? "null"
        return Self.json(200, Array("{\"standing\":\(name)}".utf8))
    }

    /// `{"probability": p, "faults": [name | {"fault": name, …params}], "seed": s}`; probability 0 turns it off.
    private func randomFaults(_ body: [UInt8]) -> SimulatorOutcome {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return Self.json(400, ErrorBodies.invalidRequest("Expected a JSON object."))
        }
        var faults: [SimulatedFault] = []
        for entry in object["faults"] as? [Any] ?? [] {
            let fault: SimulatedFault?
            if let name = entry as? String {
                fault = SimulatedFault.Kind(rawValue: name).map { SimulatedFault($0) }
            } else {
                fault = (entry as? [String: Any]).flatMap(SimulatedFault.fromAdmin)
            }
            guard let fault else {
                return Self.json(
                    400,
                    ErrorBodies.invalidRequest("Unknown fault in \(entry).", code: "unknown_sim_fault")
                )
            }
            if !fault.isApplicable { return Self.inapplicable(fault) }
            faults.append(fault)
        }
        let probability = (object["probability"] as? Double) ?? 0
        // Any UInt64 is a seed. `UInt64(… as? Int)` trapped on a negative one and turned one above Int.max into 1,
        // so two different seeds replayed the same run.
        let seed: UInt64
        switch object["seed"] {
        case nil, is NSNull: seed = 1
        case let value as UInt64: seed = value
        default:
            return Self.json(
                400,
                ErrorBodies.invalidRequest("The seed must be an integer from 0 to 2^64-1.", param: "seed")
            )
        }
        state.withLock { $0.faults.setRandom(probability: probability, faults: faults, seed: seed) }
        return Self.json(200, Array("{\"probability\":\(probability),\"faults\":\(faults.count)}".utf8))
    }

    /// The 400 for a fault nothing would apply (`SimulatedFault.isApplicable`): refused where it is configured, not
    /// taken and dropped later.
    private static func inapplicable(_ fault: SimulatedFault) -> SimulatorOutcome {
        json(
            400,
            ErrorBodies.invalidRequest(
                "Fault \(fault.name) cannot answer a WebSocket upgrade (stage=handshake).",
                param: "stage",
                code: "inapplicable_sim_fault"
            )
        )
    }

    /// What `GET /__sim/accounts` reports per account (every credential in it is a fake one).
    struct AccountStatus: Codable, Sendable, Equatable {
        var name: String
        var accountId: String
        var plan: String
        var accessToken: String
        var accessTokenValid: Bool
        var refreshToken: String
        var refreshTokenValid: Bool
        var refreshGeneration: Int
        var primaryUsedPercent: Int
        var secondaryUsedPercent: Int
        var tokensUsed: Int
    }

    func accountStatuses() -> [AccountStatus] {
        let now = clock()
        return state.withLock { state in
            state.ledger.order.compactMap { name in
                guard let t = state.ledger.tokens(of: name) else { return nil }
                let usage = state.usage.snapshot(account: name, now: now)
                return AccountStatus(
                    name: name,
                    accountId: t.account.accountId,
                    plan: t.account.plan,
                    accessToken: t.accessToken,
                    accessTokenValid: t.accessValid,
                    refreshToken: t.refreshToken,
                    refreshTokenValid: t.refreshValid,
                    refreshGeneration: t.generation,
                    primaryUsedPercent: usage.primary.usedPercent,
                    secondaryUsedPercent: usage.secondary.usedPercent,
                    tokensUsed: usage.secondary.used
                )
            }
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("null".utf8))
    }

    static func json(_ status: Int, _ body: [UInt8]) -> SimulatorOutcome {
        .complete(status: status, headers: ["content-type": "application/json"], body: body)
    }

    /// `GET /backend-api/codex/models` (ChatGPT shape) and `GET /v1/models` (OpenAI list shape).
    static func models(chatgpt: Bool) -> SimulatorOutcome {
        let slugs = ["gpt-5.5", "gpt-5.5-codex", "gpt-test"]
        let body: String
        if chatgpt {
            let items = slugs.map {
                "{\"slug\":\(JSONText.quote($0)),\"display_name\":\(JSONText.quote($0)),\"visibility\":\"list\",\"supported_in_api\":true}"
            }
            body = "{\"models\":[\(items.joined(separator: ","))]}"
        } else {
            let items = slugs.map {
                "{\"id\":\(JSONText.quote($0)),\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"openai\"}"
            }
            body = "{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))]}"
        }
        return json(200, Array(body.utf8))
    }
}
