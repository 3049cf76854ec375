import FactorData
@testable import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import Testing

/// The contract an orchestrator (the Airflow DAG) relies on, with real `factorlab run-task` processes: one exit code
/// per task state, JSON only on stdout, no internal retry, and a lease given back when the process is stopped.
@Suite("run-task: the orchestrator's contract", .serialized)
struct RunTaskContractTests {
    struct Report: Decodable {
        var taskId: String
        var status: String
        var attempt: Int
        var results: Int
        var alreadyDone: Bool
        var failedFactors: [String]
        var error: String?
    }

    static func runTask(_ id: String, _ env: [String: String], _ extra: [String] = []) throws -> (status: Int32, report: Report?, stderr: String) {
        let (status, out, err) = try FactorlabExecutable.output(["run-task", id, "--attempt", "1", "--json"] + extra, environment: env)
        return (status, try? JSONDecoder().decode(Report.self, from: out), err)
    }

    @Test func eachTaskStateHasItsExitCode() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let codes = try registered(f, count: 2)
            let planned = try JobPlanner.plan(jobRequest(codes, batch: 1), store: f.store)
            let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
            let env = ["FACTOR_PLATFORM_DB": f.store.path, "FACTOR_CACHE_DIR": f.directory + "/cache"]
            let ids = planned.tasks.map(\.id)
            #expect(ids.count == 4)

            // Leased by a live worker: 75, nothing counted.
            _ = try #require(try f.store.leaseTask(id: ids[0], owner: "someone-else", seconds: 60, now: Date().timeIntervalSince1970))
            var run = try Self.runTask(ids[0], env)
            #expect(run.status == 75 && run.report?.status == "LEASED_ELSEWHERE", "\(run.stderr)")
            #expect(try f.store.task(id: ids[0])?.attempts == 1)
            try f.store.releaseTask(taskId: ids[0], owner: "someone-else")

            // Runnable: 0, evaluated here.
            run = try Self.runTask(ids[0], env)
            #expect(run.status == 0 && run.report?.status == "SUCCESS" && run.report?.alreadyDone == false && run.report?.results == 2)
            // Already done (an Airflow retry or Clear): 0, nothing evaluated again.
            run = try Self.runTask(ids[0], env)
            #expect(run.status == 0 && run.report?.alreadyDone == true && run.report?.results == 0)
            #expect(try f.store.task(id: ids[0])?.attempts == 1)

            // Cancelled: 99 (Airflow's skip code).
            _ = try f.store.cancelJob(id: job.id, actor: "t")
            run = try Self.runTask(ids[1], env)
            #expect(run.status == 99 && run.report?.status == "CANCELLED", "\(run.stderr)")

            // Unknown: 65, with the task named.
            run = try Self.runTask("no-such-task", env)
            #expect(run.status == 65 && run.stderr.contains("no-such-task"))
        }
    }

    @Test func aTaskWhoseFactorsCannotBeEvaluatedFailsForGoodWithExit65() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let codes = try registered(f, count: 1)
            var request = jobRequest(codes, batch: 1)
            request.windows = [request.windows[0]]
            let planned = try JobPlanner.plan(request, store: f.store)
            // The registered expression reads a field the data does not have (as after a data change).
            var task = planned.tasks[0]
            var payload = try JSONDecoder().decode(TaskPayload.self, from: Data(task.payload.utf8))
            payload.factors[0].expression = "$turnover / $close"
            task.payload = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
            _ = try f.store.createJob(planned.job, tasks: [task], actor: "t")
            let run = try Self.runTask(task.id, ["FACTOR_PLATFORM_DB": f.store.path, "FACTOR_CACHE_DIR": f.directory + "/cache"])
            #expect(run.status == 65, "\(run.stderr)")
            #expect(run.report?.status == "FAILED")
            #expect(run.report?.error?.contains("no factor of the task can be evaluated: MOM1") == true, "\(run.report?.error ?? "")")
            #expect(run.report?.error?.contains("turnover") == true)
            let stored = try #require(try f.store.task(id: task.id))
            #expect(stored.status == .failed && stored.attempts == 1, "a permanent failure is not retried")
            #expect(try f.store.job(id: planned.job.id)?.status == .failed)
        }
    }

    @Test func sigtermGivesTheLeaseBackAndExits75() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let (_, planned, env) = try WorkerFaultTests.oneLongTask(f)
            let taskId = planned.tasks[0].id
            let (process, err) = try FactorlabExecutable.launchCapturing(["run-task", taskId, "--json"], environment: env)
            #expect(try WorkerFaultTests.waitFor(20) { try f.store.task(id: taskId)?.status == .running })
            kill(process.processIdentifier, SIGTERM)
            let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 75, "\(log)")
            let task = try #require(try f.store.task(id: taskId))
            #expect(task.status == .pending && task.leaseOwner == nil && task.attempts == 0)
        }
    }
}
