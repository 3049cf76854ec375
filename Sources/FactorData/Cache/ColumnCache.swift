#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FactorCore
import Foundation

/// A binary cache of parsed CSV directories, so that re-loading a directory is a few large reads.
///
/// One file per data directory and frequency, named after the directory's absolute path, in the cache folder
/// (never beside the data). A file holds the manifest of the CSV files it was built from (path, size, mtime),
/// the calendar, codes, spans and field names, then each field's packed values as raw `Double` bytes, with
/// checksums. It is used only while the manifest matches the directory; otherwise, or when the file is
/// corrupt, the directory is parsed again and the file rewritten (atomically: temporary file + rename).
/// Failing to write (unwritable folder, full disk) is not an error: loading simply works without the cache.
public struct ColumnCache: Sendable {
    /// The cache folder; nil when caching is off.
    public let directory: String?

    /// A cache in `directory` (nil: off).
    public init(directory: String?) {
        self.directory = directory.map { NSString(string: $0).expandingTildeInPath }
    }

    /// The cache folder for a source: `explicit` when given; else off when `FACTOR_CACHE=off`; else
    /// `FACTOR_CACHE_DIR`, else `$XDG_CACHE_HOME/factorlab`, else `~/.cache/factorlab`.
    public static func resolve(explicit: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> ColumnCache {
        if let explicit, !explicit.isEmpty { return ColumnCache(directory: explicit) }
        if let mode = environment["FACTOR_CACHE"]?.lowercased(), ["off", "0", "false", "no"].contains(mode) {
            return ColumnCache(directory: nil)
        }
        if let dir = environment["FACTOR_CACHE_DIR"], !dir.isEmpty { return ColumnCache(directory: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return ColumnCache(directory: FileSystem.join(xdg, "factorlab"))
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ColumnCache(directory: FileSystem.join(home, ".cache/factorlab"))
    }

    /// The cache file for `dataDirectory` (an absolute path) at `frequency`; nil when caching is off.
    public func filePath(dataDirectory: String, frequency: Frequency) -> String? {
        guard let directory else { return nil }
        let base = dataDirectory.split(separator: "/").last.map(String.init) ?? "root"
        let safe = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(40))
        let hash = String(Checksum.fnv1a(dataDirectory.utf8), radix: 16)
        return FileSystem.join(directory, "\(safe)-\(hash)-\(frequency).fcols")
    }

    // MARK: - Format

    private static let magic: [UInt8] = Array("FLCOLS01".utf8)
    private static let endMagic: [UInt8] = Array("FLCOLEND".utf8)
    /// Bump when the parser or the layout changes meaning.
    private static let version: UInt32 = 2
    private static let endianMarker: UInt32 = 0x0102_0304
    private static let prefixSize = 32

    private static func aligned(_ n: Int) -> Int { (n + 7) & ~7 }

    /// The checksum of the columns: each column's own sum (computed on all cores, which also brings a mapped file's
    /// pages in), folded in column order into the header's.
    private static func payloadSum(_ columns: [ColumnValues], headerSum: UInt64) -> UInt64 {
        let sums = Parallel.map(columns.count) { k in
            columns[k].withUnsafeBufferPointer { Checksum.words($0, seed: headerSum &+ UInt64(k)) }
        }
        return sums.reduce(headerSum) { ($0 ^ $1) &* 0x9E37_79B9_7F4A_7C15 }
    }

    // MARK: - Read

    /// The cached table for `dataDirectory` when it exists, is intact and matches `manifest`.
    func load(dataDirectory: String, frequency: Frequency, manifest: CacheManifest) -> ColumnTable? {
        guard let path = filePath(dataDirectory: dataDirectory, frequency: frequency) else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let fileSize = Int(st.st_size)
        guard fileSize >= Self.prefixSize + 16 else { return nil }

        // Prefix.
        var prefix = [UInt8](repeating: 0, count: Self.prefixSize)
        guard prefix.withUnsafeMutableBytes({ b in
            b.baseAddress.map { FileSystem.readExactly(fd: fd, into: $0, count: Self.prefixSize, offset: 0) } ?? false
        }) else { return nil }
        guard Array(prefix[0..<8]) == Self.magic else { return nil }
        var pr = ByteReader(Array(prefix[8...]))
        let nativeMarker = withUnsafeBytes(of: Self.endianMarker) { Array($0) }
        guard pr.uint32() == Self.version, pr.raw(4) == nativeMarker,
              let headerLength = pr.int64(), let headerSum = pr.uint64(),
              headerLength > 0, Int(headerLength) <= fileSize - Self.prefixSize else { return nil }

        // Header.
        var header = [UInt8](repeating: 0, count: Int(headerLength))
        guard header.withUnsafeMutableBytes({ b in
            b.baseAddress.map {
                FileSystem.readExactly(fd: fd, into: $0, count: Int(headerLength), offset: Int64(Self.prefixSize))
            } ?? false
        }), Checksum.fnv1a(header) == headerSum else { return nil }
        var r = ByteReader(header)
        guard r.string() == dataDirectory, r.string() == frequency.description,
              let itemCount = r.count(elementSize: 24) else { return nil }
        var items: [CacheManifest.Item] = []
        for _ in 0..<itemCount {
            guard let p = r.string(), let size = r.int64(), let mtime = r.int64() else { return nil }
            items.append(CacheManifest.Item(path: p, size: size, modifiedNanoseconds: mtime))
        }
        guard CacheManifest(items: items) == manifest else { return nil }
        guard let times = r.int64Array(), let codeCount = r.count(elementSize: 8) else { return nil }
        var codes: [String] = []
        for _ in 0..<codeCount {
            guard let c = r.string() else { return nil }
            codes.append(c)
        }
        var spans: [Range<Int>] = []
        for _ in 0..<codeCount {
            guard let lo = r.int64(), let hi = r.int64(), lo >= 0, lo <= hi, hi <= Int64(times.count) else {
                return nil
            }
            spans.append(Int(lo)..<Int(hi))
        }
        guard let fieldCount = r.count(elementSize: 8) else { return nil }
        var fields: [String] = []
        for _ in 0..<fieldCount {
            guard let f = r.string() else { return nil }
            fields.append(f)
        }
        guard let warningCount = r.count(elementSize: 8) else { return nil }
        var warnings: [String] = []
        for _ in 0..<warningCount {
            guard let w = r.string() else { return nil }
            warnings.append(w)
        }
        guard let storedRows = r.int64(), r.isAtEnd,
              storedRows == Int64(spans.reduce(0) { $0 + $1.count }) else { return nil }
        let rows = Int(storedRows)
        let payloadOffset = Self.aligned(Self.prefixSize + Int(headerLength))
        guard fileSize == payloadOffset + fieldCount * rows * 8 + 16 else { return nil }

        // Columns, read in place from a mapping of the file; the checksum walks them once (which also brings their
        // pages in from the page cache).
        guard let mapping = MappedFile(fd: fd, size: fileSize) else { return nil }
        let columns = (0..<fieldCount).map { ColumnValues(mapping: mapping, offset: payloadOffset + $0 * rows * 8, count: rows) }
        let sum = Self.payloadSum(columns, headerSum: headerSum)
        let trailer = UnsafeRawBufferPointer(start: mapping.base + fileSize - 16, count: 16)
        var tr = ByteReader(Array(trailer))
        guard tr.uint64() == sum, Array(trailer[8...]) == Self.endMagic else { return nil }
        guard let freq = Frequency(frequency.description), freq == frequency else { return nil }
        return ColumnTable(frequency: frequency, times: times.map { Timestamp($0) }, codes: codes, spans: spans,
                           fieldNames: fields, columns: columns, warnings: warnings)
    }

    // MARK: - Write

    /// Writes `table` for `dataDirectory`; returns false (and leaves no partial file) when it cannot.
    @discardableResult
    func store(_ table: ColumnTable, dataDirectory: String, manifest: CacheManifest) -> Bool {
        guard let directory, let path = filePath(dataDirectory: dataDirectory, frequency: table.frequency) else {
            return false
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            return false
        }
        var w = ByteWriter()
        w.append(dataDirectory)
        w.append(table.frequency.description)
        w.append(Int64(manifest.items.count))
        for item in manifest.items {
            w.append(item.path)
            w.append(item.size)
            w.append(item.modifiedNanoseconds)
        }
        w.append(table.times.map { Int64($0) })
        w.append(Int64(table.codes.count))
        for c in table.codes { w.append(c) }
        for s in table.spans {
            w.append(Int64(s.lowerBound))
            w.append(Int64(s.upperBound))
        }
        w.append(Int64(table.fieldNames.count))
        for f in table.fieldNames { w.append(f) }
        w.append(Int64(table.warnings.count))
        for m in table.warnings { w.append(m) }
        w.append(Int64(table.storedRows))
        let header = w.bytes
        let headerSum = Checksum.fnv1a(header)

        var prefix = ByteWriter()
        prefix.appendRaw(Self.magic)
        prefix.append(Self.version)
        prefix.appendRaw(withUnsafeBytes(of: Self.endianMarker) { Array($0) })  // native order: detects endianness
        prefix.append(Int64(header.count))
        prefix.append(headerSum)
        let padding = Self.aligned(Self.prefixSize + header.count) - (Self.prefixSize + header.count)

        let sum = Self.payloadSum(table.columns, headerSum: headerSum)
        var trailer = ByteWriter()
        trailer.append(sum)
        trailer.appendRaw(Self.endMagic)

        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return false }
        var ok = prefix.bytes.withUnsafeBytes { FileSystem.writeAll(fd: fd, $0) }
            && header.withUnsafeBytes { FileSystem.writeAll(fd: fd, $0) }
            && [UInt8](repeating: 0, count: padding).withUnsafeBytes { FileSystem.writeAll(fd: fd, $0) }
        for column in table.columns where ok {
            ok = column.withUnsafeBufferPointer { FileSystem.writeAll(fd: fd, UnsafeRawBufferPointer($0)) }
        }
        ok = ok && trailer.bytes.withUnsafeBytes { FileSystem.writeAll(fd: fd, $0) }
        ok = close(fd) == 0 && ok
        if ok && rename(temporary, path) == 0 { return true }
        unlink(temporary)
        return false
    }
}
