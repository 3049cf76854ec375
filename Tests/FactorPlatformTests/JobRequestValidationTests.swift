import FactorPlatform
import Testing

@Suite("Job request checks shared by submit-job and POST /jobs")
struct JobRequestValidationTests {
    static func request(_ change: (inout JobRequest) -> Void = { _ in }) -> JobRequest {
        var r = JobRequest(selection: .codes(["MOM5"]), windows: [.init(start: "2021-01-04", end: "2021-12-31")],
                           dataDirectory: "/data", sourceKind: "csv")
        change(&r)
        return r
    }

    @Test func aSoundRequestPasses() throws {
        try Self.request().validate()
        try Self.request { $0.frequencies = ["week", "5min"] }.validate()
    }

    @Test(arguments: [
        ("window 2021-12-31…2021-01-04", { @Sendable (r: inout JobRequest) in r.windows = [.init(start: "2021-12-31", end: "2021-01-04")] }),
        ("window 2021-1-4…2021-12-31", { @Sendable (r: inout JobRequest) in r.windows = [.init(start: "2021-1-4", end: "2021-12-31")] }),
        ("at least one window", { @Sendable (r: inout JobRequest) in r.windows = [] }),
        ("horizons", { @Sendable (r: inout JobRequest) in r.horizons = [0] }),
        ("batch size", { @Sendable (r: inout JobRequest) in r.batchSize = 0 }),
        ("max attempts", { @Sendable (r: inout JobRequest) in r.maxAttempts = 0 }),
        ("quantiles", { @Sendable (r: inout JobRequest) in r.quantiles = 101 }),
        ("delay", { @Sendable (r: inout JobRequest) in r.delay = -1 }),
        ("universes", { @Sendable (r: inout JobRequest) in r.universes = [] }),
        ("'fortnight' is not a frequency", { @Sendable (r: inout JobRequest) in r.frequencies = ["fortnight"] }),
    ] as [(String, @Sendable (inout JobRequest) -> Void)])
    func aBadValueIsRefusedByName(expected: String, change: @Sendable (inout JobRequest) -> Void) {
        #expect(throws: InvalidJobRequest.self) { try Self.request(change).validate() }
        do {
            try Self.request(change).validate()
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func defaultsComeFromTheEnvironmentForTheCLIAndTheAPIAlike() {
        #expect(JobRequest.defaultBatchSize([:]) == 8)
        #expect(JobRequest.defaultBatchSize(["FACTOR_BATCH_SIZE": " 3 "]) == 3)
        #expect(JobRequest.defaultUniverses([:]) == ["csi300"])
        #expect(JobRequest.defaultUniverses(["FACTOR_INSTRUMENTS": "csi300, csi500,"]) == ["csi300", "csi500"])
    }
}

@Suite("Retry backoff")
struct RetryBackoffTests {
    @Test func exponentialWithEqualJitterAndACap() {
        #expect(RetryBackoff.seconds(afterAttempt: 1, base: 2, jitter: 1) == 2)
        #expect(RetryBackoff.seconds(afterAttempt: 3, base: 2, jitter: 1) == 8)
        #expect(RetryBackoff.seconds(afterAttempt: 3, base: 2, jitter: 0.5) == 4)
        #expect(RetryBackoff.seconds(afterAttempt: 40, base: 2, jitter: 1) == 3600)
        let drawn = (0..<200).map { _ in RetryBackoff.seconds(afterAttempt: 2, base: 2) }
        #expect(drawn.allSatisfy { (2...4).contains($0) } && Set(drawn).count > 1)
    }
}
