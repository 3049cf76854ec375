import FactorCore
import Foundation

/// Output helpers: stderr messages and aligned tables.
enum Terminal {
    static func info(_ text: String) {
        FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
    }

    /// Left-aligns the first column, right-aligns the others.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }

    /// A compact number for tables.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v != 0 && (abs(v) >= 1e6 || abs(v) < 1e-4) { return String(format: "%.4e", v) }
        return String(format: "%.6f", v)
    }
}

/// Writes text to a file in chunks (or to stdout for "-").
final class TextSink {
    private let handle: FileHandle
    private let path: String

    init(path: String) throws {
        self.path = path
        if path == "-" {
            handle = FileHandle.standardOutput
        } else {
            // open(2), not FileManager.createFile: that replaces the path with a new file, which would turn
            // /dev/null or a named pipe into a regular file.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw CLIError("cannot create \(path): \(String(cString: strerror(errno))) (check that its folder exists and is writable)")
            }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        }
    }

    func write(_ text: String) throws {
        try handle.write(contentsOf: Data(text.utf8))
    }

    func write(_ bytes: ByteWriter) throws {
        guard bytes.write(to: handle.fileDescriptor) else {
            throw CLIError("cannot write \(path == "-" ? "standard output" : path): \(String(cString: strerror(errno)))")
        }
    }

    func close() throws {
        if path != "-" { try handle.close() }
    }
}

/// A user-facing error with a message and no stack of context.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes a table to `path`: Parquet (Snappy) when asked or when the name ends in `.parquet`, else CSV.
enum TableFile {
    static func write(_ table: DataTable, to path: String, parquet: Bool? = nil) throws {
        let sink = try TextSink(path: path)
        if parquet ?? path.lowercased().hasSuffix(".parquet") {
            let bytes = ByteWriter(capacity: 0)
            bytes.append(try table.parquet())
            try sink.write(bytes)
        } else {
            try sink.write(table.csv())
        }
        try sink.close()
    }
}
