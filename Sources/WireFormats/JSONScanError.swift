/// Why a byte-level JSON scan rejected its input.
///
/// `reason` is stable and low-cardinality: use it verbatim as an `error.type` attribute or a metric label.
/// `offset` is the byte index (in the scanned array's own indices) where the problem was noticed; it is for
/// humans and never belongs in a label.
public struct JSONScanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stable, low-cardinality name for the kind of malformation.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }

        /// The input held nothing but whitespace.
        public static let emptyInput = Reason("empty_input")
        /// The scanned value is not an object where one is required.
        public static let notAnObject = Reason("not_an_object")
        /// The scanned value is not an array where one is required.
        public static let notAnArray = Reason("not_an_array")
        /// A byte that cannot start or continue the expected token.
        public static let unexpectedByte = Reason("unexpected_byte")
        /// The input ended inside a value (unbalanced brackets, a missing value).
        public static let unexpectedEnd = Reason("unexpected_end")
        /// A string without its closing quote.
        public static let unterminatedString = Reason("unterminated_string")
        /// A misspelt `true`, `false` or `null`.
        public static let invalidLiteral = Reason("invalid_literal")
        /// A number that does not follow the JSON grammar.
        public static let invalidNumber = Reason("invalid_number")
        /// Non-whitespace bytes after the complete value.
        public static let trailingGarbage = Reason("trailing_garbage")
        /// Containers nested deeper than `JSONByteScanner.maxDepth`.
        public static let tooDeep = Reason("too_deep")
        /// A key whose string escapes cannot be decoded.
        public static let invalidEscape = Reason("invalid_escape")
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "JSONScanError(\(reason) at byte \(offset))" }
}
