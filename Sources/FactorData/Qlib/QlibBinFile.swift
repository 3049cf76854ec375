#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One Qlib feature file, `features/<symbol>/<field>.<freq>.bin`: little-endian float32, element 0 the calendar
/// index of the first stored row, then one value per calendar row.
struct QlibBinFile {
    let path: String
    private let fd: Int32
    /// Calendar rows stored in the file.
    let rows: Range<Int>

    /// Opens the file; nil when it does not exist. `calendarCount` bounds the stored rows.
    static func openFile(_ path: String, calendarCount: Int) throws -> QlibBinFile? {
        let fd = posixOpen(path)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw DataError.unreadable(path: path, reason: FileSystem.errnoText())
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            _ = posixClose(fd)
            throw DataError.unreadable(path: path, reason: FileSystem.errnoText())
        }
        let size = Int(st.st_size)
        guard size >= 4, size % 4 == 0 else {
            _ = posixClose(fd)
            throw DataError.badQlibFile(path: path, problem: "size \(size) bytes is not 4 × (1 + rows)")
        }
        var raw: UInt32 = 0
        guard FileSystem.readExactly(fd: fd, into: &raw, count: 4, offset: 0) else {
            _ = posixClose(fd)
            throw DataError.unreadable(path: path, reason: "short read")
        }
        let first = Float(bitPattern: UInt32(littleEndian: raw))
        let count = size / 4 - 1
        guard first.isFinite, first >= 0, first <= Float(calendarCount), first == first.rounded(),
              Int(first) + count <= calendarCount else {
            _ = posixClose(fd)
            throw DataError.badQlibFile(
                path: path,
                problem: "first row index \(first) with \(count) rows does not fit the calendar of \(calendarCount) rows")
        }
        return QlibBinFile(path: path, fd: fd, rows: Int(first)..<(Int(first) + count))
    }

    private init(path: String, fd: Int32, rows: Range<Int>) {
        self.path = path
        self.fd = fd
        self.rows = rows
    }

    func closeFile() { _ = posixClose(fd) }

    /// Reads calendar rows `wanted ∩ rows` as Doubles into `destination[t - wanted.lowerBound]`.
    func read(_ wanted: Range<Int>, into destination: UnsafeMutablePointer<Double>) throws {
        let lo = max(wanted.lowerBound, rows.lowerBound), hi = min(wanted.upperBound, rows.upperBound)
        guard lo < hi else { return }
        let n = hi - lo
        var raw = [UInt32](repeating: 0, count: n)
        let ok = raw.withUnsafeMutableBytes { b in
            b.baseAddress.map {
                FileSystem.readExactly(fd: fd, into: $0, count: n * 4, offset: Int64(4 * (1 + lo - rows.lowerBound)))
            } ?? false
        }
        guard ok else { throw DataError.unreadable(path: path, reason: "short read") }
        let out = destination + (lo - wanted.lowerBound)
        for i in 0..<n { out[i] = Double(Float(bitPattern: UInt32(littleEndian: raw[i]))) }
    }
}

private func posixOpen(_ path: String) -> Int32 { open(path, O_RDONLY) }
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
