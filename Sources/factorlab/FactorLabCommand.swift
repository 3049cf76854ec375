import ArgumentParser

@main
struct FactorLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "factorlab", abstract: "FactorLab: factor evaluation.")
}
