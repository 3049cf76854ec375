/// A Double that encodes NaN and ±inf as JSON `null` (and decodes `null` as NaN).
@propertyWrapper
public struct NullableNaN: Codable, Sendable, Equatable {
    public var wrappedValue: Double

    public init(wrappedValue: Double) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? .nan : try c.decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if wrappedValue.isFinite { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }

    public static func == (a: NullableNaN, b: NullableNaN) -> Bool {
        a.wrappedValue == b.wrappedValue || (a.wrappedValue.isNaN && b.wrappedValue.isNaN)
    }
}

/// An array of Doubles whose NaN and ±inf entries encode as JSON `null`.
@propertyWrapper
public struct NullableNaNArray: Codable, Sendable, Equatable {
    public var wrappedValue: [Double]

    public init(wrappedValue: [Double]) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = try c.decode([Double?].self).map { $0 ?? .nan }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wrappedValue.map { $0.isFinite ? $0 : nil })
    }

    public static func == (a: NullableNaNArray, b: NullableNaNArray) -> Bool {
        a.wrappedValue.count == b.wrappedValue.count
            && zip(a.wrappedValue, b.wrappedValue).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}
