/// The domain of a keyed pseudonym; its raw value is the pseudonym's prefix (`acct_…`).
///
/// The kind is hashed together with the value, so the same raw string yields unrelated pseudonyms in
/// different domains. Prefixes deliberately differ from upstream id prefixes (`resp_`, `msg_`, `sk-`).
/// The set is closed: new kinds are added here, never built from input.
public struct PseudonymKind: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    private init(_ rawValue: String) { self.rawValue = rawValue }

    /// Upstream accounts (`chatgpt-account-id`, pool entries).
    public static let acct = PseudonymKind("acct")
    /// Downstream client principals (who called the proxy).
    public static let prn = PseudonymKind("prn")
    /// Sessions (`session-id`, continuity keys).
    public static let sess = PseudonymKind("sess")
    /// Turn state (`x-codex-turn-state`).
    public static let turn = PseudonymKind("turn")
    /// Response ids (`resp_…` upstream).
    public static let rid = PseudonymKind("rid")

    public static let allCases: [PseudonymKind] = [.acct, .prn, .sess, .turn, .rid]

    /// Parses a kind as operators type it: the prefix or its long name (`account`, `principal`,
    /// `session`, `turn`, `response`), case-insensitively. Nil for anything else.
    public init?(name: String) {
        switch name.lowercased() {
        case "acct", "account": self = .acct
        case "prn", "principal": self = .prn
        case "sess", "session": self = .sess
        case "turn": self = .turn
        case "rid", "response": self = .rid
        default: return nil
        }
    }

    public var description: String { rawValue }
}
