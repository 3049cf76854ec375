@testable import FactorCore
import Testing

/// The Parquet writer's parts, checked without a reader (interop/run.sh reads whole files with pyarrow and polars).
@Suite("Parquet writer")
struct ParquetWriterTests {
    /// A straightforward Snappy decoder, written from the format description, to check the compressor.
    static func snappyDecode(_ input: [UInt8]) throws -> [UInt8] {
        struct Corrupt: Error {}
        var i = 0, length = 0, shift = 0
        while true {
            let b = input[i]; i += 1
            length |= Int(b & 0x7F) << shift
            shift += 7
            if b < 0x80 { break }
        }
        var out: [UInt8] = []
        while i < input.count {
            let tag = input[i]; i += 1
            switch tag & 3 {
            case 0:
                var n = Int(tag >> 2)
                if n >= 60 {
                    let extra = n - 59
                    n = 0
                    for k in 0..<extra { n |= Int(input[i + k]) << (8 * k) }
                    i += extra
                }
                out += input[i..<(i + n + 1)]
                i += n + 1
            case 1:
                let n = Int((tag >> 2) & 7) + 4, offset = Int(tag >> 5) << 8 | Int(input[i]); i += 1
                guard offset > 0 && offset <= out.count else { throw Corrupt() }
                for _ in 0..<n { out.append(out[out.count - offset]) }
            case 2:
                let n = Int(tag >> 2) + 1, offset = Int(input[i]) | Int(input[i + 1]) << 8; i += 2
                guard offset > 0 && offset <= out.count else { throw Corrupt() }
                for _ in 0..<n { out.append(out[out.count - offset]) }
            default:
                throw Corrupt()
            }
        }
        guard out.count == length else { throw Corrupt() }
        return out
    }

    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        let out = ByteWriter()
        bytes.withUnsafeBufferPointer { Snappy.compress($0, into: out) }
        return out.bytes
    }

    @Test("Snappy output decodes to the input: empty, literal-only, repetitive, long runs and 200 KiB across blocks")
    func snappyRoundTrip() throws {
        var random = SystemRandomNumberGenerator()
        let cases: [[UInt8]] = [
            [], [7], Array("abcdefgh".utf8),
            Array(repeating: 0, count: 100_000),
            (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 37) },
            (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) },
            (0..<50_000).map { _ in UInt8.random(in: 0...3, using: &random) },
        ]
        for input in cases {
            let packed = Self.compress(input)
            #expect(try Self.snappyDecode(packed) == input, "\(input.count) bytes")
        }
        #expect(Self.compress(Array(repeating: 0, count: 100_000)).count < 5_000)
    }

    /// Decodes RLE / bit-packed hybrid runs of `count` values.
    static func hybridDecode(_ bytes: [UInt8], bitWidth: Int, count: Int) -> [UInt64] {
        var i = 0, out: [UInt64] = []
        while out.count < count {
            var header = 0, shift = 0
            while true {
                let b = bytes[i]; i += 1
                header |= Int(b & 0x7F) << shift
                shift += 7
                if b < 0x80 { break }
            }
            if header & 1 == 0 {
                var v: UInt64 = 0
                for k in 0..<((bitWidth + 7) / 8) { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                i += (bitWidth + 7) / 8
                out += Array(repeating: v, count: header >> 1)
            } else {
                let n = (header >> 1) * 8
                var acc: UInt64 = 0, bits = 0
                for _ in 0..<n {
                    while bits < bitWidth { acc |= UInt64(bytes[i]) << UInt64(bits); i += 1; bits += 8 }
                    out.append(acc & ((1 << UInt64(bitWidth)) - 1))
                    acc >>= UInt64(bitWidth)
                    bits -= bitWidth
                }
            }
        }
        return Array(out.prefix(count))
    }

    @Test("RLE / bit-packed hybrid runs decode to the values, for runs, noise and their mixtures", arguments: [1, 3, 9])
    func hybridRuns(bitWidth: Int) {
        var random = SystemRandomNumberGenerator()
        let limit = UInt64(1) << UInt64(bitWidth)
        var values: [UInt64] = []
        for _ in 0..<60 {
            let v = UInt64.random(in: 0..<limit, using: &random)
            values += Bool.random(using: &random) ? Array(repeating: v, count: Int.random(in: 1...30, using: &random))
                : (0..<Int.random(in: 1...13, using: &random)).map { _ in UInt64.random(in: 0..<limit, using: &random) }
        }
        let encoded = RLEHybrid.encodeRuns(count: values.count, bitWidth: bitWidth) { values[$0] }
        #expect(Self.hybridDecode(encoded, bitWidth: bitWidth, count: values.count) == values)
    }

    @Test("A file starts and ends with PAR1 and its footer length points at the footer")
    func fileFrame() throws {
        var table = DataTable()
        table.add("name", .strings(["a", "b", "a"]))
        table.add("x", .doubles([1, .nan, -.infinity]))
        table.add("n", .integers([1, 2, 3]))
        table.add("date", .times(["2024-01-02", "2024-01-03", "2024-01-04"]))
        for codec in ParquetCompression.allCases {
            let file = try table.parquet(compression: codec, rowGroupRows: 2)
            #expect(Array(file.prefix(4)) == Array("PAR1".utf8) && Array(file.suffix(4)) == Array("PAR1".utf8))
            let footer = Int(UInt32(file[file.count - 8]) | UInt32(file[file.count - 7]) << 8 | UInt32(file[file.count - 6]) << 16
                             | UInt32(file[file.count - 5]) << 24)
            #expect(footer > 0 && footer < file.count - 12)
            #expect(file[file.count - 9] == 0)  // the FileMetaData struct's stop byte
        }
        #expect(table.csv() == "name,x,n,date\na,1.0,1,2024-01-02\nb,,2,2024-01-03\na,-inf,3,2024-01-04\n")
    }
}
