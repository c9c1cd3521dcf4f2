extension String {
    /// The record's bytes and its newline, as a sink writes them: one buffer sized up front, because
    /// `Array(utf8)` and then appending the newline copied every record twice.
    var logLineBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count + 1)
        bytes.append(contentsOf: utf8)
        bytes.append(0x0a)
        return bytes
    }
}
