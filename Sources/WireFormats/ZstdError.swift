/// Why a zstd body could not be decoded. `reason` is stable and low-cardinality.
public struct ZstdError: Error, Equatable, Sendable {
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ value: String) { self.description = value }
        /// The output would exceed `maxOutputBytes`, or the frame asks for a larger window than allowed.
        public static let tooLarge = Reason("too_large")
        /// The input is not valid zstd data.
        public static let corrupt = Reason("corrupt")
        /// The input ended inside a frame (or was empty).
        public static let truncated = Reason("truncated")
        /// libzstd could not allocate its context.
        public static let outOfMemory = Reason("out_of_memory")
    }

    public var reason: Reason
    /// libzstd's error name, for humans only.
    public var detail: String

    public init(_ reason: Reason, detail: String = "") {
        self.reason = reason
        self.detail = detail
    }
}
