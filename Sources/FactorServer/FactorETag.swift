import FactorStore
import HTTPTypes
import Hummingbird

/// A factor's entity tag: its latest version, its state and when it last changed. A client that read a factor sends
/// it back in `If-Match` so that an edit or a review move never acts on a factor someone else changed meanwhile.
enum FactorETag {
    static func of(_ factor: FactorRecord) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (factor.updatedAt + "|" + factor.owner).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\"v\(factor.latestVersion)-\(factor.status.rawValue)-\(String(hash, radix: 16))\""
    }

    static let header = ["ETag": "The factor's entity tag, for If-Match and If-None-Match"]
    static let ifMatch = HeaderParameter(name: "If-Match", help: "The ETag the factor was read with: the change is refused with 412 if the factor changed since")
    static let ifNoneMatch = HeaderParameter(name: "If-None-Match", help: "An ETag: 304 without a body when the factor still has it")

    static func tagged(_ response: Response, _ factor: FactorRecord) -> Response {
        var response = response
        response.headers[.eTag] = of(factor)
        return response
    }

    /// Whether a conditional header lists the factor's current tag (or `*`).
    static func matches(_ header: String?, _ factor: FactorRecord) -> Bool {
        guard let header else { return false }
        let current = of(factor)
        return header.split(separator: ",").contains { tag in
            let t = tag.trimmingCharacters(in: .whitespaces)
            return t == "*" || t == current || t == "W/" + current
        }
    }

    /// 412 when `If-Match` is given and does not name the factor as it is now.
    static func require(_ request: Request, _ factor: FactorRecord) throws {
        guard let header = request.headers[.ifMatch] else { return }
        guard matches(header, factor) else {
            throw APIError(.preconditionFailed, "factor \(factor.code) changed since it was read: its ETag is now \(of(factor)), not \(header)",
                           code: "precondition_failed", field: "If-Match")
        }
    }
}
