import FactorData
@testable import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import GRDB
import Testing

/// Faults with real `factorlab worker` processes.
@Suite("Worker faults with real processes", .serialized)
struct WorkerFaultTests {
    static func waitFor(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// A job of one task (30 factors over two years): long enough to kill or stop a worker in the middle of it; with
    /// the environment a worker process needs for it.
    static func oneLongTask(_ f: Fixture) throws -> (job: JobRecord, planned: (job: JobRecord, tasks: [TaskRecord]), environment: [String: String]) {
        let codes = try registered(f, count: 30)
        var request = jobRequest(codes, universes: ["all"], batch: 30)
        request.windows = [.init(start: "2021-01-04", end: "2022-12-30")]
        let planned = try JobPlanner.plan(request, store: f.store)
        let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
        #expect(planned.tasks.count == 1)
        return (job, planned, ["FACTOR_PLATFORM_DB": f.store.path, "FACTOR_CACHE_DIR": f.directory + "/cache"])
    }

    @Test func aKilledWorkersTaskIsFinishedByAnotherWithOneCopyOfEveryResult() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let (job, planned, env) = try Self.oneLongTask(f)
            let (victim, _) = try ConcurrentProcessTests.launch(["worker", "--once", "--lease-seconds", "2", "--name", "victim"], environment: env)
            let taskId = planned.tasks[0].id
            #expect(try Self.waitFor(20) { try f.store.task(id: taskId)?.leaseOwner == "victim" })
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            #expect(try f.store.task(id: taskId)?.status == .running)  // still leased by the dead worker
            let (rescuer, pipe) = try ConcurrentProcessTests.launch(["worker", "--until-empty", "--lease-seconds", "2", "--poll", "0.2",
                                                                     "--name", "rescuer"], environment: env)
            // The rescuer finds nothing runnable until the dead worker's lease lapses, then takes the task over.
            let outcome = ConcurrentProcessTests.wait([(rescuer, pipe)])[0]
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let task = try #require(try f.store.task(id: taskId))
            #expect(task.status == .success && task.attempts == 2)
            #expect(try f.store.job(id: job.id)?.status == .success)
            #expect(try f.store.results(matching: ResultFilter(runId: job.runId)).count == 30 * 2)  // one per factor × horizon
        }
    }

    @Test func anUnreadableDataFileFailsOnlyTheTasksThatNeedIt() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let data = f.directory + "/data"
            try FileManager.default.copyItem(atPath: Fixture.dataDirectory, toPath: data)
            let codes = try registered(f, count: 2)
            var request = jobRequest(codes, universes: ["SYN001,SYN002", "SYN003"], batch: 2)
            request.dataDirectory = data
            let planned = try JobPlanner.plan(request, store: f.store)
            let (job, _) = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
            // The file of SYN003 becomes unreadable after the job was planned.
            var text = try String(contentsOfFile: data + "/SYN003.csv", encoding: .utf8)
            text += "2023-01-03,not-a-number,1,1,1,1,1,1,1\n"
            try text.write(toFile: data + "/SYN003.csv", atomically: true, encoding: .utf8)
            let env = ["FACTOR_PLATFORM_DB": f.store.path, "FACTOR_CACHE_DIR": f.directory + "/cache"]
            let outcome = ConcurrentProcessTests.wait([try ConcurrentProcessTests.launch(["worker", "--until-empty", "--poll", "0.1"], environment: env)])[0]
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let tasks = try f.store.tasks(jobId: job.id)
            let payloads = try tasks.map { try JSONDecoder().decode(TaskPayload.self, from: Data($0.payload.utf8)) }
            for (task, payload) in zip(tasks, payloads) {
                if payload.universe == "SYN003" {
                    #expect(task.status == .failed && task.attempts == 1, "a data error is not retried")
                    #expect(task.error?.contains("SYN003.csv") == true, "\(task.error ?? "")")
                } else {
                    #expect(task.status == .success)
                }
            }
            let finished = try #require(try f.store.job(id: job.id))
            #expect(finished.status == .failed && finished.error?.contains("2 of 4 tasks failed") == true)
        }
    }

    @Test func aWorkerRefusesADatabaseMigratedByANewerVersion() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let queue = try DatabaseQueue(path: f.store.path)
            try queue.write { db in
                try db.execute(sql: "INSERT INTO factorlab_migrations (id, applied_at) VALUES ('v99-from-the-future', '2030-01-01')")
            }
            let outcome = ConcurrentProcessTests.wait([try ConcurrentProcessTests.launch(["worker", "--until-empty"],
                                                                                        environment: ["FACTOR_PLATFORM_DB": f.store.path])])[0]
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains("migrated by a newer FactorLab") && outcome.stderr.contains("v99-from-the-future"), "\(outcome.stderr)")
        }
    }
}

@Suite("Clean stops and run-task", .serialized)
struct CleanStopTests {
    @Test func sigtermReleasesTheLeaseAndExitsCleanly() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let (_, planned, env) = try WorkerFaultTests.oneLongTask(f)
            let (worker, pipe) = try ConcurrentProcessTests.launch(["worker", "--name", "stopper"], environment: env)
            let taskId = planned.tasks[0].id
            #expect(try WorkerFaultTests.waitFor(20) { try f.store.task(id: taskId)?.leaseOwner == "stopper" })
            kill(worker.processIdentifier, SIGTERM)
            let outcome = ConcurrentProcessTests.wait([(worker, pipe)])[0]
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let task = try #require(try f.store.task(id: taskId))
            #expect(task.status == .pending && task.leaseOwner == nil && task.attempts == 0)
        }
    }

    @Test func runTaskRunsOneTaskAndIsIdempotent() async throws {
        try await blocking {
            let f = try Fixture()
            defer { f.remove() }
            let codes = try registered(f, count: 2)
            let planned = try JobPlanner.plan(jobRequest(codes), store: f.store)
            _ = try f.store.createJob(planned.job, tasks: planned.tasks, actor: "t")
            let env = ["FACTOR_PLATFORM_DB": f.store.path, "FACTOR_CACHE_DIR": f.directory + "/cache"]
            let id = planned.tasks[0].id
            for round in 0..<2 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: try #require(ConcurrentProcessTests.executable))
                process.arguments = ["run-task", id, "--attempt", "1", "--json"]
                process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
                let out = Pipe()
                process.standardOutput = out
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                #expect(process.terminationStatus == 0)
                let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "stdout is JSON only")
                #expect(json["status"] as? String == "SUCCESS", "round \(round)")
            }
            #expect(try f.store.task(id: id)?.status == .success)
            #expect(try f.store.results(matching: ResultFilter(runId: planned.job.runId)).count == 2 * 2)
        }
    }
}
