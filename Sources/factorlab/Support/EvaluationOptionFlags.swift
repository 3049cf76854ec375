import ArgumentParser
import FactorEval
import Foundation

/// The evaluation options `evaluate` and `submit-job` share (and `POST /jobs` and the Airflow DAG take by the same
/// names): preprocessing, a custom label, min-names and decay lags.
struct EvaluationOptionFlags: ParsableArguments {
    @Option(help: "Rows with fewer names in the sample have no IC (default 2).")
    var minNames: Int?

    @Option(help: "IC decay lags 0…K (default 10).")
    var decayLags: Int?

    @Option(help: "Winsorize each row: mad[:K] (median ± K·1.4826·MAD, K = 3 by default) or quantile:P (clip to the [P, 1−P] quantiles).")
    var winsorize: String?

    @Option(help: "Neutralize each row: industry, size or industry,size (OLS residual on industry dummies and/or log market value; needs --industry / --size).")
    var neutralize: String?

    @Option(help: "Market value expression for --neutralize size (its log is the regressor), e.g. '$market_value' or '$close*$shares'.")
    var size: String?

    @Option(help: "Industry CSV (symbol + industry_code/industry/industry_name/csrc_section), for --neutralize industry and IC by industry.")
    var industry: String?

    @Flag(help: "Z-score each row after winsorizing and neutralizing.")
    var zscore = false

    @Option(help: "A custom label expression replacing the forward return, e.g. 'Ref($close, -2)/Ref($close, -1) - 1'; give one --horizons value, the label's length in bars.")
    var label: String?

    /// The options with the industry file as an absolute path: a job's workers may run in another directory.
    var absoluteOptions: EvaluationOptions {
        var o = options
        o.industry = industry.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return o
    }

    var options: EvaluationOptions {
        EvaluationOptions(minNames: minNames, decayLags: decayLags, winsorize: winsorize, neutralize: neutralize, size: size,
                          industry: industry, zscore: zscore ? true : nil, label: label)
    }
}
