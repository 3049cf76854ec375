/// One column of a Parquet file: its name and how its values are stored.
public struct ParquetColumn: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// DOUBLE, OPTIONAL: NaN is written as null (missing), infinities as themselves.
        case double
        /// INT64, REQUIRED.
        case int64
        /// INT64 TIMESTAMP(MICROS, isAdjustedToUTC = false), REQUIRED: wall-clock time without a zone, as
        /// FactorLab's timestamps are.
        case timestampMicros
        /// BYTE_ARRAY STRING, REQUIRED, dictionary-encoded (codes and names repeat).
        case string
    }

    public var name: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// The values of one column for one row group.
public enum ParquetValues: Sendable {
    case doubles([Double])
    case int64s([Int64])
    /// Strings as indices into a dictionary (each distinct value once).
    case dictionary([String], indices: [Int32])

    public var count: Int {
        switch self {
        case .doubles(let v): return v.count
        case .int64s(let v): return v.count
        case .dictionary(_, let indices): return indices.count
        }
    }

    /// Strings, dictionary-coded in order of first appearance.
    public static func strings(_ values: [String]) -> ParquetValues {
        var codes: [String: Int32] = [:]
        var dictionary: [String] = []
        let indices = values.map { v -> Int32 in
            if let c = codes[v] { return c }
            let c = Int32(dictionary.count)
            codes[v] = c
            dictionary.append(v)
            return c
        }
        return .dictionary(dictionary, indices: indices)
    }
}

/// Compression of every page.
public enum ParquetCompression: String, Sendable, CaseIterable {
    case none, snappy

    var codec: Int32 { self == .none ? 0 : 1 }
}
