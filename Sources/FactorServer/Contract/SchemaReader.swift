import Foundation

/// Derives JSON Schemas from the very `Decodable` implementations the API reads and writes its bodies with, so that
/// the OpenAPI document cannot drift from the code: a decoder that, instead of reading JSON, records every field a
/// type asks for (its name, its type, whether it is `decodeIfPresent`) and hands back a sample value.
///
/// Responses are encoded with NaN and infinities as `null`, so every number in a response schema may be null; a
/// request schema keeps numbers strict (`direction`).
final class SchemaReader {
    enum Direction { case request, response }
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let direction: Direction
    /// Named object schemas, for `#/components/schemas`.
    private(set) var components: [String: [String: Any]] = [:]
    private var componentNames: [ObjectIdentifier: String] = [:]
    private var samples: [ObjectIdentifier: Any] = [:]
    /// Object properties in the order a type asked for them, per component (for readable documents and `allowed`).
    private(set) var propertyNames: [String: [String]] = [:]
    let namePrefix: String
    /// Components another reader already named (the response schemas, for the request reader): a type whose schema
    /// differs from the one of that name is named `<Name>Input`, before any reference to it is written.
    var reserved: [String: [String: Any]] = [:]
    /// Components referenced from inside another schema (not only as a whole body).
    private(set) var nestedComponents: Set<String> = []
    private var depth = 0

    init(direction: Direction, namePrefix: String = "") {
        self.direction = direction
        self.namePrefix = namePrefix
    }

    /// The schema of `T`: inline for scalars, enums, arrays and maps; a `$ref` to a component for objects.
    func schema<T: Decodable>(_ type: T.Type) throws -> [String: Any] {
        try read(type).schema
    }

    /// The top-level field names of an object type (what a request body may contain).
    func fieldNames<T: Decodable>(_ type: T.Type) throws -> [String] {
        let schema = try read(type).schema
        guard let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last else { return [] }
        return propertyNames[String(name)] ?? []
    }

    func read<T: Decodable>(_ type: T.Type) throws -> (value: T, schema: [String: Any]) {
        if let scalar = Self.scalar(T.self, direction: direction) { return (scalar.value as! T, scalar.schema) }
        if let enumeration = T.self as? any CaseIterable.Type {
            let cases = Self.cases(of: enumeration)
            let raw = cases.compactMap { ($0 as? any RawRepresentable)?.rawValue }
            guard let first = cases.first as? T, !raw.isEmpty else { throw Failure(description: "\(T.self): an enumeration without cases") }
            if raw.allSatisfy({ $0 is String }) { return (first, ["type": "string", "enum": raw]) }
            return (first, ["type": "integer", "enum": raw])
        }
        if let map = T.self as? any StringKeyedMap.Type {
            return (map.empty as! T, ["type": "object", "additionalProperties": try map.valueSchema(self)])
        }
        let id = ObjectIdentifier(T.self)
        let nested = depth > 0
        if let name = componentNames[id], let sample = samples[id] as? T {
            if nested { nestedComponents.insert(name) }
            return (sample, ["$ref": "#/components/schemas/\(name)"])
        }
        let decoder = RecordingDecoder(reader: self)
        let value: T
        depth += 1
        defer { depth -= 1 }
        do { value = try T(from: decoder) } catch let failure as Failure { throw failure } catch {
            throw Failure(description: "\(String(reflecting: T.self)) cannot be described from its Decodable implementation: \(error)")
        }
        let schema = decoder.shape.schema(nullableNumbers: direction == .response)
        guard schema["type"] as? String == "object", schema["properties"] != nil else { return (value, schema) }
        var name = componentName(T.self)
        if let other = reserved[name], !NSDictionary(dictionary: other).isEqual(to: schema) { name += "Input" }
        if nested { nestedComponents.insert(name) }
        componentNames[id] = name
        samples[id] = value
        components[name] = schema
        propertyNames[name] = decoder.shape.order
        return (value, ["$ref": "#/components/schemas/\(name)"])
    }

    /// `JobRoutes.Submitted` → `Submitted`; qualified further when two types share a short name.
    private func componentName<T>(_ type: T.Type) -> String {
        let modules: Set<String> = ["FactorServer", "FactorStore", "FactorPlatform", "FactorEval", "main"]
        let parts: [String] = String(reflecting: type).split(separator: ".").map(String.init).filter { !modules.contains($0) }
        var candidate = namePrefix + (parts.last ?? "Object")
        var depth = 2
        while components[candidate] != nil && depth <= parts.count {
            candidate = namePrefix + parts.suffix(depth).joined()
            depth += 1
        }
        return candidate
    }

    private static func cases<C: CaseIterable>(of type: C.Type) -> [Any] { type.allCases.map { $0 as Any } }

    static func scalar(_ type: Any.Type, direction: Direction) -> (value: Any, schema: [String: Any])? {
        let number: [String: Any] = direction == .response ? ["type": ["number", "null"]] : ["type": "number"]
        switch type {
        case is String.Type: return ("", ["type": "string"])
        case is Bool.Type: return (false, ["type": "boolean"])
        case is Int.Type: return (0, ["type": "integer"])
        case is Int64.Type: return (Int64(0), ["type": "integer", "format": "int64"])
        case is Int32.Type: return (Int32(0), ["type": "integer", "format": "int32"])
        case is Int16.Type: return (Int16(0), ["type": "integer"])
        case is Int8.Type: return (Int8(0), ["type": "integer"])
        case is UInt.Type: return (UInt(0), ["type": "integer", "minimum": 0])
        case is UInt16.Type: return (UInt16(0), ["type": "integer", "minimum": 0])
        case is UInt64.Type: return (UInt64(0), ["type": "integer", "minimum": 0])
        case is UInt32.Type: return (UInt32(0), ["type": "integer", "minimum": 0])
        case is UInt8.Type: return (UInt8(0), ["type": "integer", "minimum": 0, "maximum": 255])
        case is Double.Type: return (0.0, number)
        case is Float.Type: return (Float(0), number)
        default: return nil
        }
    }
}

/// `[String: Value]`, described as an object whose every property is a `Value`.
protocol StringKeyedMap {
    static var empty: Self { get }
    static func valueSchema(_ reader: SchemaReader) throws -> [String: Any]
}

extension Dictionary: StringKeyedMap where Key == String, Value: Decodable {
    static var empty: Self { [:] }
    static func valueSchema(_ reader: SchemaReader) throws -> [String: Any] { try reader.schema(Value.self) }
}

/// What a type asked the recording decoder for.
final class RecordedShape {
    enum Kind { case unknown, object, array, single }
    var kind: Kind = .unknown
    var properties: [String: (schema: [String: Any], required: Bool)] = [:]
    var order: [String] = []
    var items: [String: Any]?
    var single: [String: Any]?
    var nullable = false
    /// Keyed containers nested under a key, described when this shape is (after they were read).
    var nestedShapes: [String: RecordedShape] = [:]

    func property(_ key: String, _ schema: [String: Any], required: Bool) {
        kind = .object
        if properties[key] == nil { order.append(key) }
        // A key asked for twice (once required) stays required.
        properties[key] = (schema, required || (properties[key]?.required ?? false))
    }

    func schema(nullableNumbers: Bool) -> [String: Any] {
        var schema: [String: Any]
        switch kind {
        case .object, .unknown:
            var props: [String: Any] = [:]
            for (key, entry) in properties {
                let described = nestedShapes[key].map { $0.schema(nullableNumbers: nullableNumbers) } ?? entry.schema
                props[key] = entry.required ? described : RecordedShape.orNull(described)
            }
            schema = ["type": "object", "properties": props]
            let required = order.filter { properties[$0]?.required == true }
            if !required.isEmpty { schema["required"] = required }
        case .array:
            schema = ["type": "array", "items": items ?? [:]]
        case .single:
            schema = single ?? [:]
        }
        return nullable ? RecordedShape.orNull(schema) : schema
    }

    /// The schema, or null.
    static func orNull(_ schema: [String: Any]) -> [String: Any] {
        if let type = schema["type"] as? String, schema["$ref"] == nil, schema["enum"] == nil {
            var s = schema
            s["type"] = [type, "null"]
            return s
        }
        if let types = schema["type"] as? [String] {
            if types.contains("null") { return schema }
            var s = schema
            s["type"] = types + ["null"]
            return s
        }
        if let anyOf = schema["anyOf"] as? [[String: Any]], anyOf.contains(where: { $0["type"] as? String == "null" }) { return schema }
        return ["anyOf": [schema, ["type": "null"]]]
    }
}

/// The decoder behind `SchemaReader`: answers every question with a sample and writes down what was asked.
struct RecordingDecoder: Decoder {
    let reader: SchemaReader
    let shape = RecordedShape()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(reader: SchemaReader) { self.reader = reader }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        shape.kind = .object
        return KeyedDecodingContainer(KeyedRecorder<Key>(reader: reader, shape: shape))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        shape.kind = .array
        return UnkeyedRecorder(reader: reader, shape: shape)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        shape.kind = .single
        return SingleRecorder(reader: reader, shape: shape)
    }
}

struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let reader: SchemaReader
    let shape: RecordedShape
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (value, schema) = try reader.read(type)
        shape.property(key.stringValue, schema, required: true)
        return value
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let (value, schema) = try reader.read(type)
        shape.property(key.stringValue, schema, required: false)
        return value
    }

    // The protocol's default `decodeIfPresent` for scalars would call `decode` and record the field as required.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        let (value, schema) = try reader.read(type)
        shape.property(key.stringValue, schema, required: false)
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let nested = RecordedShape()
        nested.kind = .object
        shape.property(key.stringValue, [:], required: true)
        shape.nestedShapes[key.stringValue] = nested
        return KeyedDecodingContainer(KeyedRecorder<NestedKey>(reader: reader, shape: nested))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw SchemaReader.Failure(description: "nested unkeyed containers are not described (key \(key.stringValue))")
    }

    func superDecoder() throws -> any Decoder { RecordingDecoder(reader: reader) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RecordingDecoder(reader: reader) }
}

struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let reader: SchemaReader
    let shape: RecordedShape
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex > 0 }

    init(reader: SchemaReader, shape: RecordedShape) {
        self.reader = reader
        self.shape = shape
    }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try reader.read(type)
        shape.items = schema
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaReader.Failure(description: "nested keyed containers in arrays are not described")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw SchemaReader.Failure(description: "nested arrays are not described")
    }

    mutating func superDecoder() throws -> any Decoder { RecordingDecoder(reader: reader) }
}

struct SingleRecorder: SingleValueDecodingContainer {
    let reader: SchemaReader
    let shape: RecordedShape
    var codingPath: [any CodingKey] { [] }

    /// `Optional.init(from:)` asks this first: the value may be null.
    func decodeNil() -> Bool {
        shape.nullable = true
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try reader.read(type)
        shape.single = schema
        return value
    }
}
