/// Snappy compression (the raw format Parquet's SNAPPY codec uses): the uncompressed length as a varint, then
/// literals and back-references found with a hash of 4-byte sequences, in independent 64 KiB blocks as the
/// reference implementation does.
public enum Snappy {
    public static func compress(_ input: UnsafeBufferPointer<UInt8>, into out: ByteWriter) {
        var length = UInt64(input.count)
        while length >= 0x80 {
            out.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        guard let base = input.baseAddress, input.count > 0 else { return }
        let tableBits = 14
        var table = [Int32](repeating: -1, count: 1 << tableBits)
        var blockStart = 0
        while blockStart < input.count {
            let blockEnd = min(input.count, blockStart + 65_536)
            compressBlock(base, blockStart, blockEnd, &table, tableBits, out)
            blockStart = blockEnd
        }
    }

    @inline(__always)
    private static func load32(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self)
    }

    private static func compressBlock(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ table: inout [Int32],
                                      _ tableBits: Int, _ out: ByteWriter) {
        for k in table.indices { table[k] = -1 }
        var literalStart = start
        var i = start
        let lastMatchStart = end - 4
        while i <= lastMatchStart {
            let word = load32(p, i)
            let h = Int((word &* 0x1E35_A7BD) >> (32 - UInt32(tableBits)))
            let candidate = Int(table[h])
            table[h] = Int32(i)
            guard candidate >= start, load32(p, candidate) == word else {
                i += 1
                continue
            }
            var matchLength = 4
            while i + matchLength < end && p[candidate + matchLength] == p[i + matchLength] { matchLength += 1 }
            emitLiteral(p, literalStart, i, out)
            emitCopy(offset: i - candidate, length: matchLength, out)
            i += matchLength
            literalStart = i
        }
        emitLiteral(p, literalStart, end, out)
    }

    private static func emitLiteral(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int, _ out: ByteWriter) {
        let count = to - from
        guard count > 0 else { return }
        let n = count - 1
        if n < 60 {
            out.append(UInt8(n) << 2)
        } else if n < 1 << 8 {
            out.append(60 << 2); out.append(UInt8(n))
        } else if n < 1 << 16 {
            out.append(61 << 2); out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
        } else {
            out.append(62 << 2); out.append(UInt8(n & 0xFF)); out.append(UInt8((n >> 8) & 0xFF)); out.append(UInt8(n >> 16))
        }
        out.append(UnsafeBufferPointer(start: p + from, count: count))
    }

    /// Copies of up to 64 bytes with a 2-byte offset (offsets stay below 64 KiB within a block).
    private static func emitCopy(offset: Int, length: Int, _ out: ByteWriter) {
        var remaining = length
        while remaining > 0 {
            // Keep every piece at least 4 bytes long so that the last one can use the short form too.
            var piece = min(remaining, 64)
            if remaining - piece > 0 && remaining - piece < 4 { piece = remaining - 4 }
            if piece >= 4 && piece <= 11 && offset < 2048 {
                out.append(UInt8(offset >> 8) << 5 | UInt8(piece - 4) << 2 | 1)
                out.append(UInt8(offset & 0xFF))
            } else {
                out.append(UInt8(piece - 1) << 2 | 2)
                out.append(UInt8(offset & 0xFF))
                out.append(UInt8(offset >> 8))
            }
            remaining -= piece
        }
    }
}
