import FactorData
import FactorEval

extension EvaluationOptions {
    /// These options with the industry file defaulted, when industry neutralization needs one and none is given, to
    /// the classification of the data in `directory` (its `meta/industry*.csv`, which `$industry` reads too).
    public func withIndustryDefault(directory: String?, needed: Bool = false) -> EvaluationOptions {
        guard industry == nil, needed || neutralize?.lowercased().contains("industry") == true, let directory,
              let file = try? DataSources.classificationFile(directory: directory) else { return self }
        var o = self
        o.industry = file
        return o
    }
}

extension JobRequest {
    /// The request with its options' industry file defaulted to the data's classification (see
    /// `EvaluationOptions.withIndustryDefault`); `compareNeutral` needs one for its neutral twin.
    public func withIndustryDefault() -> JobRequest {
        var r = self
        let options = r.options ?? EvaluationOptions()
        let defaulted = options.withIndustryDefault(directory: r.dataDirectory, needed: r.compareNeutral == true)
        if defaulted.industry != options.industry { r.options = defaulted }
        return r
    }
}
