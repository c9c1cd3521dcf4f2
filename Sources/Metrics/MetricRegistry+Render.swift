/// Rendering of a scrape: registered and collected families, sorted by name, in text format 0.0.4.
extension MetricRegistry {
    /// The whole exposition: `# HELP` and `# TYPE` once per family, families sorted by name, series sorted
    /// by their rendered labels, every line (the last included) ending in `\n`. Runs the collectors.
    public func render() -> String {
        let (families, sampleNames, collectors) = state.withLock {
            (Array($0.families.values), $0.sampleNames, $0.collectors)
        }
        var entries: [(name: String, family: Entry)] = families.map { ($0.name, .registered($0)) }
        var taken = sampleNames
        for collect in collectors {
            for family in collect() where Self.isRenderable(family) && taken.insert(family.name).inserted {
                entries.append((family.name, .collected(family)))
            }
        }
        entries.sort { TextFormat.precedes($0.name, $1.name) }
        var out = ""
        out.reserveCapacity(64 * 1024)
        for entry in entries {
            switch entry.family {
            case .registered(let family): family.render(into: &out)
            case .collected(let family): Self.render(family, into: &out)
            }
        }
        return out
    }

    /// `render()` as UTF-8 bytes, ready for a response body or for `Gzip.compress`.
    public func renderBytes() -> [UInt8] {
        Array(render().utf8)
    }

    private enum Entry {
        case registered(RegisteredFamily)
        case collected(CollectedFamily)
    }

    /// `# HELP name help` (escaped) and `# TYPE name type`, each ending in a newline.
    static func header(_ name: String, _ help: String, _ type: String) -> String {
        "# HELP " + name + " " + TextFormat.escapeHelp(help) + "\n" + "# TYPE " + name + " " + type + "\n"
    }

    private static func isRenderable(_ family: CollectedFamily) -> Bool {
        MetricNames.isValidMetricName(family.name)
            && family.name.hasSuffix("_total") == (family.kind == .counter)
            && family.samples.allSatisfy { $0.labels.keys.allSatisfy(MetricNames.isValidLabelName) }
    }

    private static func render(_ family: CollectedFamily, into out: inout String) {
        out += header(family.name, family.help, family.kind.rawValue)
        let lines = family.samples.map { sample in
            let pairs = sample.labels.sorted { TextFormat.precedes($0.key, $1.key) }.map {
                (name: $0.key, value: $0.value)
            }
            return (labels: TextFormat.renderLabelPairs(pairs), value: sample.value)
        }
        var seen: Set<String> = []
        for line in lines.sorted(by: { TextFormat.precedes($0.labels, $1.labels) })
        where seen.insert(line.labels).inserted {
            out += TextFormat.samplePrefix(family.name, line.labels)
            out += TextFormat.formatDouble(line.value)
            out += "\n"
        }
    }
}

extension RegisteredFamily {
    var name: String {
        switch self {
        case .counter(let family): family.name
        case .gauge(let family): family.name
        case .histogram(let family): family.name
        }
    }

    func render(into out: inout String) {
        switch self {
        case .counter(let family):
            out += family.header
            for child in family.store.snapshot() { child.render(into: &out) }
        case .gauge(let family):
            out += family.header
            for child in family.store.snapshot() { child.render(into: &out) }
        case .histogram(let family):
            out += family.header
            for child in family.store.snapshot() { child.render(into: &out) }
        }
    }
}
