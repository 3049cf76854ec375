#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Thin POSIX file helpers: whole-file reads, `stat` with nanosecond mtimes, directory listings.
enum FileSystem {
    /// Size and modification time of a file, as recorded in cache manifests.
    struct Status: Sendable, Hashable {
        var size: Int64
        var modifiedNanoseconds: Int64
        var isDirectory: Bool
        var isRegularFile: Bool
    }

    /// The `stat` of `path` (following symlinks), or nil when it does not exist.
    static func status(_ path: String) -> Status? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        let ns = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #else
        let ns = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #endif
        let type = st.st_mode & S_IFMT
        return Status(size: Int64(st.st_size), modifiedNanoseconds: ns,
                      isDirectory: type == S_IFDIR, isRegularFile: type == S_IFREG)
    }

    static func isDirectory(_ path: String) -> Bool { status(path)?.isDirectory ?? false }
    static func isRegularFile(_ path: String) -> Bool { status(path)?.isRegularFile ?? false }

    /// Names in a directory (no `.`/`..`), sorted; nil when it cannot be listed.
    static func list(_ path: String) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return names.sorted()
    }

    /// The text of the last `errno`.
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Reads a whole file into memory.
    static func readAll(_ path: String) throws(DataError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError.unreadable(path: path, reason: errnoText()) }
        let size = Int(st.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
            count = 0
            guard let base = buffer.baseAddress else { return }
            var got = 0
            while got < size {
                let r = read(fd, base + got, size - got)
                if r < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText()
                    break
                }
                if r == 0 { break }
                got += r
            }
            count = got
        }
        if let failure { throw DataError.unreadable(path: path, reason: failure) }
        return bytes
    }

    /// Reads exactly `count` bytes at `offset` into `destination`; false on a short read or error.
    static func readExactly(fd: Int32, into destination: UnsafeMutableRawPointer, count: Int, offset: Int64) -> Bool {
        var got = 0
        while got < count {
            let r = pread(fd, destination + got, count - got, off_t(offset) + off_t(got))
            if r < 0 {
                if errno == EINTR { continue }
                return false
            }
            if r == 0 { return false }
            got += r
        }
        return true
    }

    /// Writes all bytes to `fd`; false on error.
    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let r = write(fd, base + done, bytes.count - done)
            if r < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += r
        }
        return true
    }

    /// The absolute, symlink-free form of `path` (relative paths are taken from the working directory).
    static func canonicalPath(_ path: String) -> String {
        let expanded = NSString(string: path).expandingTildeInPath
        let absolute = expanded.hasPrefix("/")
            ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        if let resolved = realpath(absolute, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return NSString(string: absolute).standardizingPath
    }

    /// `directory/name` without doubling the slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
