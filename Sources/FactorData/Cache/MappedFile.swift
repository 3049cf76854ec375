import Foundation

/// A file mapped read-only into memory for as long as this object lives: the column cache's payload is read in place,
/// each page brought in from the page cache only when a column that lies on it is read.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer
    let size: Int

    /// Maps the whole of the open file `fd` (which may be closed afterwards); nil when it cannot be mapped.
    init?(fd: Int32, size: Int) {
        guard size > 0 else { return nil }
        // Populated at once: one call brings every page in, instead of a fault per page as the columns are read.
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let address, address != MAP_FAILED else { return nil }
        base = UnsafeRawPointer(address)
        self.size = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// One column of a `ColumnTable`: values built in memory, or a range of a mapped cache file.
struct ColumnValues: Sendable {
    private let owned: [Double]
    private let mapping: MappedFile?
    private let offset: Int
    let count: Int

    init(_ values: [Double]) {
        owned = values
        mapping = nil
        offset = 0
        count = values.count
    }

    /// `count` doubles at byte `offset` of `mapping` (8-byte aligned).
    init(mapping: MappedFile, offset: Int, count: Int) {
        precondition(offset % 8 == 0 && offset + count * 8 <= mapping.size, "column outside its mapping")
        owned = []
        self.mapping = mapping
        self.offset = offset
        self.count = count
    }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        guard let mapping else { return try owned.withUnsafeBufferPointer(body) }
        return try body(UnsafeBufferPointer(start: (mapping.base + offset).assumingMemoryBound(to: Double.self), count: count))
    }
}
