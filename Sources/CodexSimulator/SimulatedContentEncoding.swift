import WireFormats

/// Decodes a `/responses` request body by its `content-encoding`, as the backend does: the Codex CLI sends
/// `zstd` bodies with a ChatGPT login.
///
/// Knows no encoding (or `identity`) and `zstd`. Any other encoding, a `zstd` body that does not decode, and one
/// that grows past `maxDecodedBytes` (the backend's 16 MiB body limit) throw `SimulatorRequestError`, which the
/// engine answers with a 400. It does not look inside the body; WebSocket frames are never encoded and do not
/// come here. Pure: no I/O. Concurrency: stateless.
enum SimulatedContentEncoding {
    static let maxDecodedBytes = 16 * 1024 * 1024

    static func decode(_ body: [UInt8], contentEncoding: String?) throws(SimulatorRequestError) -> [UInt8] {
        let encoding = contentEncoding?.trimmingCharacters(in: " \t").lowercased() ?? ""
        switch encoding {
        case "", "identity":
            return body
        case "zstd":
            do {
                return try ZstdDecoder.decode(body, maxOutputBytes: maxDecodedBytes)
            } catch {
                throw SimulatorRequestError(
                    reason: "invalid_content_encoding",
                    message: "The request body could not be decoded as zstd (\(error.reason))."
                )
            }
        default:
            throw SimulatorRequestError(
                reason: "unsupported_content_encoding",
                message: "Unsupported content-encoding \(encoding): send zstd or an identity body."
            )
        }
    }
}
