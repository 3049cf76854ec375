import FactorEval
import FactorStore
import Foundation

/// What each stored settings hash means, in words ("raw", "winsorize mad:3 · neutralize industry · zscore"), read
/// from the runs that produced the results: a job's parameters hold its evaluation options, an `evaluate --save`
/// run's parameters its settings hash and summary. Results are shown and filtered by these words.
public enum SettingsLabels {
    /// Settings hash → summary, for every run whose parameters say it.
    public static func labels(_ runs: [RunRecord]) -> [String: String] {
        var labels: [String: String] = [:]
        for run in runs {
            let data = Data(run.parameters.utf8)
            if run.kind == "job", let request = try? JSONDecoder().decode(JobRequest.self, from: data) {
                for set in request.optionSets {
                    let options = set ?? EvaluationOptions()
                    guard let settings = try? options.settings(horizons: request.horizons, delay: request.delay, quantiles: request.quantiles) else { continue }
                    labels[ResultRecorder.settingsHash(settings, label: options.label)] = options.summary
                }
            } else if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let hash = object["settingsHash"] as? String, let summary = object["settings"] as? String {
                labels[hash] = summary
            }
        }
        return labels
    }

    /// The hashes whose summary is `text` (case-insensitive), or that start with it (a hash prefix).
    public static func hashes(matching text: String, in labels: [String: String]) -> [String] {
        let wanted = text.trimmingCharacters(in: .whitespaces).lowercased()
        return labels.filter { $0.value.lowercased() == wanted || (wanted.count >= 4 && $0.key.hasPrefix(wanted)) }.keys.sorted()
    }
}
