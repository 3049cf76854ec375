import Foundation

/// Reads an industry classification CSV (a `symbol` column and an industry column such as `industry_code`,
/// `industry_name`, `industry` or `csrc_section`), e.g. `meta/industry_csrc.csv`.
public enum IndustryFile {
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Instrument code → industry; `column` picks the industry column (default: the first of industry_code,
    /// industry, industry_name, csrc_section that exists).
    public static func read(_ path: String, column: String? = nil) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): cannot read the industry file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map({ $0.lowercased().trimmingCharacters(in: .whitespaces) }) else {
            throw ReadError(description: "\(path): the file is empty")
        }
        guard let codeColumn = header.firstIndex(where: { ["symbol", "instrument", "code"].contains($0) }) else {
            throw ReadError(description: "\(path):1: no symbol/instrument/code column in \(header.joined(separator: ","))")
        }
        let candidates = column.map { [$0.lowercased()] } ?? ["industry_code", "industry", "industry_name", "csrc_section"]
        guard let industryColumn = candidates.compactMap({ header.firstIndex(of: $0) }).first else {
            throw ReadError(description: "\(path):1: no industry column (\(candidates.joined(separator: ", "))) in \(header.joined(separator: ","))")
        }
        var out: [String: String] = [:]
        for (k, line) in lines.enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count else {
                throw ReadError(description: "\(path):\(k + 1): \(cells.count) cells, the header has \(header.count)")
            }
            let industry = String(cells[industryColumn]).trimmingCharacters(in: .whitespaces)
            if !industry.isEmpty { out[String(cells[codeColumn]).uppercased()] = industry }
        }
        return out
    }
}
