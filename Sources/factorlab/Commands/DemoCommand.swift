import ArgumentParser
import FactorCore
import FactorData
import FactorExpr
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a small SYNTHETIC data set and compute Alpha158 and its label on it, end to end.",
        discussion: "Needs no external data: the README's first command. The data is labelled synthetic in its README.txt.")

    @Option(help: "Where to write the synthetic data set and the features CSV.")
    var dir: String = "factorlab-demo"

    @Option(help: "Universe to compute on (the synthetic set has 'all' and the point-in-time 'core20').")
    var universe: String = "core20"

    func run() throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir + "/calendars/day.txt") {
            Terminal.info("generating the SYNTHETIC demo data set in \(dir)/ (see \(dir)/README.txt)")
            try SyntheticMarket.write(to: dir)
        }
        let source = try DataSources.open(directory: dir, kind: .csv)
        let expressions = Alpha158.features.map { NamedExpression(name: $0.name, text: $0.expression) }
            + [NamedExpression(name: Alpha158.label.name, text: Alpha158.label.expression),
               NamedExpression(name: "CSMOM20", text: "CSRank(Ref($close, 20)/$close)"),
               NamedExpression(name: "MKTBETA60", text: "Cov($close/Ref($close,1)-1, ChangeInstrument('SH000300', $close/Ref($close,1)-1), 60)/Var(ChangeInstrument('SH000300', $close/Ref($close,1)-1), 60)")]
        let request = FeatureRequest(universe: try UniverseSpec(parsing: universe), expressions: expressions)
        let result = try FeatureComputation.run(request, source: source)
        let cells = result.outputCells().count
        let out = dir + "/features.csv"
        let sink = try TextSink(path: out)
        try FeatureOutput.writeCSV(result) { try sink.write($0) }
        try sink.close()
        print("FactorLab demo on SYNTHETIC data (\(dir)/README.txt): universe \(universe), \(result.data.instruments.count) instruments, \(result.data.calendar.count) days")
        print(String(format: "computed %d expressions (%d shared plan nodes) in %.3f s after loading in %.3f s; %d rows written to %@\n",
                     expressions.count, result.plan.operationCount, result.evaluateSeconds, result.loadSeconds, cells, out))
        let shown = Set(["KMID", "ROC20", "MA20", "STD20", "BETA20", "RSQR20", "QTLU20", "RANK20", "CORR20", "WVMA20", "LABEL0", "CSMOM20", "MKTBETA60"])
        let rows = FeatureOutput.stats(result).filter { shown.contains($0.name) }.map { s in
            [s.name, String(s.valid), String(s.nan), Terminal.number(s.mean), Terminal.number(s.std), Terminal.number(s.min), Terminal.number(s.max)]
        }
        print(Terminal.table(["expression", "valid", "nan", "mean", "std", "min", "max"], rows))
        print("\nNext: factorlab features --data \(dir) --universe core20 --expr 'MOM5=Ref($close,5)/$close-1' --stats")
    }
}
