extension JSONTopLevel {
    /// New document bytes with some members set and some removed; every other byte passes through untouched.
    ///
    /// - A key in `set` that is present has its value bytes replaced in place (every occurrence, so duplicate
    ///   keys stay consistent whichever one a reader picks); the key token and whitespace around it are kept.
    /// - A key in `set` that is absent is appended before the closing brace as `,"key":value`, in `set` order.
    /// - A key in `remove` loses every occurrence, with one separating comma. A key in both lists is set.
    /// - If `set` names a key twice, the last value wins.
    ///
    /// The `rawJSON` values are inserted verbatim and must each be one valid JSON value (build them with
    /// `JSONEncoding`); they are not validated here. One pass, one exactly sized output allocation.
    public func rewriting(set: [(key: String, rawJSON: [UInt8])], remove: [String] = []) -> [UInt8] {
        rewriting(set: set, remove: remove, locating: nil).bytes
    }

    /// `rewriting(set:remove:)`, also telling where the value of `key` (its last member, as readers pick)
    /// ended up in the new bytes, so a caller need not scan them again to find it.
    public func rewriting(
        set: [(key: String, rawJSON: [UInt8])],
        remove: [String] = [],
        locating key: String?
    ) -> (bytes: [UInt8], located: Range<Int>?) {
        var replacement: [String: Int] = [:]
        for (index, entry) in set.enumerated() { replacement[entry.key] = index }
        let removed = Set(remove).subtracting(replacement.keys)

        // Decide each member's fate and the exact output size before copying anything.
        enum Action { case keep, replace(Int), drop }
        var actions: [Action] = []
        actions.reserveCapacity(fields.count)
        var present = Set<String>()
        for field in fields {
            if let index = replacement[field.key] {
                actions.append(.replace(index))
                present.insert(field.key)
            } else if removed.contains(field.key) {
                actions.append(.drop)
            } else {
                actions.append(.keep)
            }
        }
        let appended = set.enumerated().filter { offset, entry in
            !present.contains(entry.key) && replacement[entry.key] == offset
        }.map { $0.element }
        let appendedKeys = appended.map { JSONEncoding.string($0.key) }

        let prefixEnd = fields.first?.keyRange.lowerBound ?? (openBrace + 1)
        let tailStart = fields.last?.valueRange.upperBound ?? (openBrace + 1)
        var size = (prefixEnd - bytes.startIndex) + (bytes.endIndex - tailStart)
        var keptBefore = false
        for (index, field) in fields.enumerated() {
            switch actions[index] {
            case .drop: continue
            case .keep: size += field.valueRange.upperBound - field.keyRange.lowerBound
            case .replace(let r): size += field.valueRange.lowerBound - field.keyRange.lowerBound + set[r].rawJSON.count
            }
            if keptBefore { size += field.keyRange.lowerBound - fields[index - 1].valueRange.upperBound }
            keptBefore = true
        }
        for (entry, key) in zip(appended, appendedKeys) {
            size += (keptBefore ? 1 : 0) + key.count + 1 + entry.rawJSON.count
            keptBefore = true
        }

        var out: [UInt8] = []
        var located: Range<Int>?
        out.reserveCapacity(size)
        out.append(contentsOf: bytes[bytes.startIndex..<prefixEnd])
        keptBefore = false
        for (index, field) in fields.enumerated() {
            if case .drop = actions[index] { continue }
            if keptBefore {
                // The original gap before this member holds exactly one comma, whatever was dropped before it.
                out.append(contentsOf: bytes[fields[index - 1].valueRange.upperBound..<field.keyRange.lowerBound])
            }
            switch actions[index] {
            case .drop: break
            case .keep:
                let valueStart = out.count + (field.valueRange.lowerBound - field.keyRange.lowerBound)
                out.append(contentsOf: bytes[field.keyRange.lowerBound..<field.valueRange.upperBound])
                if field.key == key { located = valueStart..<out.count }
            case .replace(let r):
                out.append(contentsOf: bytes[field.keyRange.lowerBound..<field.valueRange.lowerBound])
                out.append(contentsOf: set[r].rawJSON)
                if field.key == key { located = out.count - set[r].rawJSON.count..<out.count }
            }
            keptBefore = true
        }
        for (entry, encodedKey) in zip(appended, appendedKeys) {
            if keptBefore { out.append(0x2C) }
            out.append(contentsOf: encodedKey)
            out.append(0x3A)
            out.append(contentsOf: entry.rawJSON)
            if entry.key == key { located = out.count - entry.rawJSON.count..<out.count }
            keptBefore = true
        }
        out.append(contentsOf: bytes[tailStart..<bytes.endIndex])
        assert(out.count == size)
        return (out, located)
    }
}
