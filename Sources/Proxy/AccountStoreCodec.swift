import Foundation
import LogRedaction
import WireFormats

/// Reads and writes the `accounts.json` format. Pure: bytes in, bytes out.
///
/// ```json
/// {"version":1,"accounts":[
/// {"name":"a","account_id":"…","base_url":null,"plan_type":"plus","access_token":"…","refresh_token":"…",
///  "id_token":"…","api_key":null,"expires_at":1700000000,"last_refresh":1699996400,"status":"active",
///  "cooldown_until":null,"quota":{"primary_used_percent":42,…,"observed_at":…},
///  "refresh_generation":3,"config_fingerprint":"…"}
/// ]}
/// ```
/// One account per line so an operator can read the file. This is the only place tokens are revealed
/// for persistence. Unknown fields are ignored on read, so newer files load in older builds.
public enum AccountStoreCodec {
    public static let version = 1

    public static func encode(_ entries: [AccountStoreEntry]) -> [UInt8] {
        var out = Array("{\"version\":\(version),\"accounts\":[".utf8)
        for (index, entry) in entries.enumerated() {
            out.append(contentsOf: Array((index == 0 ? "\n" : ",\n").utf8))
            out.append(contentsOf: encode(entry))
        }
        out.append(contentsOf: Array("\n]}\n".utf8))
        return out
    }

    static func encode(_ entry: AccountStoreEntry) -> [UInt8] {
        func secret(_ value: Secret<String>?) -> [UInt8] { JSONEncoding.optionalString(value?.reveal()) }
        func int(_ value: Int64?) -> [UInt8] { value.map { JSONEncoding.int(Int($0)) } ?? JSONEncoding.null }
        func double(_ value: Double?) -> [UInt8] { value.map { JSONEncoding.double($0) } ?? JSONEncoding.null }
        var quota = JSONEncoding.null
        if let q = entry.quota {
            quota = JSONEncoding.object([
                ("primary_used_percent", double(q.primaryUsedPercent)),
                ("secondary_used_percent", double(q.secondaryUsedPercent)),
                ("primary_reset_at", int(q.primaryResetAt)),
                ("secondary_reset_at", int(q.secondaryResetAt)),
                ("observed_at", int(q.observedAt)),
            ])
        }
        return JSONEncoding.object([
            ("name", JSONEncoding.string(entry.name)),
            ("account_id", JSONEncoding.optionalString(entry.accountID)),
            ("base_url", JSONEncoding.optionalString(entry.baseURL)),
            ("plan_type", JSONEncoding.optionalString(entry.planType)),
            ("access_token", secret(entry.accessToken)),
            ("refresh_token", secret(entry.refreshToken)),
            ("id_token", secret(entry.idToken)),
            ("api_key", secret(entry.apiKey)),
            ("expires_at", int(entry.expiresAt)),
            ("last_refresh", int(entry.lastRefresh)),
            ("status", JSONEncoding.string(entry.status.rawValue)),
            ("cooldown_until", int(entry.cooldownUntil)),
            ("quota", quota),
            ("refresh_generation", JSONEncoding.int(entry.refreshGeneration)),
            ("config_fingerprint", JSONEncoding.optionalString(entry.configFingerprint)),
        ])
    }

    /// Throws `AccountStoreError` `corrupt_state` for anything that is not a version-1 accounts file.
    public static func decode(_ bytes: [UInt8]) throws(AccountStoreError) -> [AccountStoreEntry] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw AccountStoreError(reason: AccountStoreError.corruptState, detail: "not a JSON object")
        }
        guard (root["version"] as? NSNumber)?.intValue == version, let accounts = root["accounts"] as? [Any] else {
            throw AccountStoreError(reason: AccountStoreError.corruptState, detail: "missing version 1 or accounts")
        }
        var entries: [AccountStoreEntry] = []
        for (index, item) in accounts.enumerated() {
            guard let object = item as? [String: Any], let name = object["name"] as? String, !name.isEmpty else {
                throw AccountStoreError(reason: AccountStoreError.corruptState, detail: "account \(index) has no name")
            }
            var entry = AccountStoreEntry(name: name)
            entry.accountID = object["account_id"] as? String
            entry.baseURL = object["base_url"] as? String
            entry.planType = object["plan_type"] as? String
            entry.accessToken = (object["access_token"] as? String).map(Secret.init)
            entry.refreshToken = (object["refresh_token"] as? String).map(Secret.init)
            entry.idToken = (object["id_token"] as? String).map(Secret.init)
            entry.apiKey = (object["api_key"] as? String).map(Secret.init)
            entry.expiresAt = int64(object["expires_at"])
            entry.lastRefresh = int64(object["last_refresh"])
            entry.status = (object["status"] as? String).flatMap(AccountStoreEntry.Status.init(rawValue:)) ?? .active
            entry.cooldownUntil = int64(object["cooldown_until"])
            if let quota = object["quota"] as? [String: Any] {
                entry.quota = AccountStoreEntry.Quota(
                    primaryUsedPercent: double(quota["primary_used_percent"]),
                    secondaryUsedPercent: double(quota["secondary_used_percent"]),
                    primaryResetAt: int64(quota["primary_reset_at"]),
                    secondaryResetAt: int64(quota["secondary_reset_at"]),
                    observedAt: int64(quota["observed_at"]) ?? 0
                )
            }
            entry.refreshGeneration = Int(int64(object["refresh_generation"]) ?? 0)
            entry.configFingerprint = object["config_fingerprint"] as? String
            entries.append(entry)
        }
        return entries
    }

    private static func int64(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.boundedInt64
    }

    private static func double(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        return number.doubleValue
    }
}
