/// The syntactic kind of one JSON value, known from its first byte.
public enum JSONValueKind: String, Sendable, Equatable {
    case string, number, bool, null, object, array
}
