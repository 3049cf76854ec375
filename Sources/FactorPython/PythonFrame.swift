import Foundation

/// One message of the runner protocol: `FLPY`, the header's length (u32 little-endian), the header as UTF-8 JSON,
/// then `payload_bytes` bytes of raw little-endian arrays in the order the header lists them.
struct PythonFrame {
    static let magic: [UInt8] = Array("FLPY".utf8)

    var header: [String: Any]
    var payload: [UInt8] = []

    /// The bytes of a request whose arrays are `arrays` (already little-endian: every platform FactorLab runs on is).
    static func encode(_ header: [String: Any], arrays: [UnsafeRawBufferPointer]) throws -> (head: [UInt8], arrays: [UnsafeRawBufferPointer]) {
        var header = header
        header["payload_bytes"] = arrays.reduce(0) { $0 + $1.count }
        let json = try JSONSerialization.data(withJSONObject: header)
        var head = magic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { head += $0 }
        head += json
        return (head, arrays)
    }

    /// Parses the 8-byte prefix: the header's length, or nil when the magic is wrong.
    static func headerLength(_ prefix: [UInt8]) -> Int? {
        guard prefix.count == 8, Array(prefix[0..<4]) == magic else { return nil }
        return Int(UInt32(prefix[4]) | UInt32(prefix[5]) << 8 | UInt32(prefix[6]) << 16 | UInt32(prefix[7]) << 24)
    }
}
