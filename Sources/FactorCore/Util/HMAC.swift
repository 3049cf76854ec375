/// HMAC-SHA256 (RFC 2104), used to sign webhook deliveries.
public enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key`.
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? SHA256Digest.hash(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = SHA256Digest.hash(k.map { $0 ^ 0x36 } + message)
        return SHA256Digest.hash(k.map { $0 ^ 0x5c } + inner)
    }

    /// Lower-case hex MAC of UTF-8 strings.
    public static func hex(key: String, message: String) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for b in mac(key: Array(key.utf8), message: Array(message.utf8)) { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }
}
