import FactorData
import FactorPlatform
import FactorPython
import FactorServer
import FactorStore
import FactorTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A live server over a fresh database and the synthetic demo market, with one token per role.
struct ServerFixture {
    static let dataDirectory: String = {
        let dir = NSTemporaryDirectory() + "factorlab-server-tests-data"
        if !FileManager.default.fileExists(atPath: dir + "/calendars/day.txt") { try? SyntheticMarket.write(to: dir) }
        return dir
    }()

    let directory: String
    let store: any PlatformStore
    let services: Services
    var tokens: [Role: String] = [:]
    private var dropDatabase: (@Sendable () -> Void)?

    /// Over SQLite, or over a scratch PostgreSQL database when `postgres` (the test server must be configured).
    init(postgres: Bool = false) throws {
        directory = NSTemporaryDirectory() + "factorlab-server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if postgres {
            let (url, drop) = try TestPostgres.scratchDatabase("server")
            store = try PostgresFactorStore(url: url)
            dropDatabase = drop
        } else {
            store = try SQLiteFactorStore(path: directory + "/api.db")
        }
        let source = try DataSources.open(directory: Self.dataDirectory, kind: .csv, cacheDirectory: directory + "/cache")
        services = Services(store: store, validator: try ExpressionValidator(source: source), fields: Set(try source.fieldNames()),
                            dataDirectory: Self.dataDirectory, sourceKind: "csv")
        let issuer = TokenService(store: store)
        for role in Role.allCases { tokens[role] = try issuer.create(name: role.rawValue, role: role, actor: "test").secret }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
        dropDatabase?()
    }

    func app() -> some ApplicationProtocol { try! APIServer.application(services, host: "127.0.0.1", port: 0) }
}

extension TestClientProtocol {
    /// Sends JSON text as `role` (nil: no token) and returns status and parsed body.
    func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, as role: Role?, tokens: [Role: String]) async throws
        -> (status: Int, json: Any?) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let role, let token = tokens[role] { headers[.authorization] = "Bearer " + token }
        let response = try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        let data = Data(buffer: response.body)
        return (Int(response.status.code), data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
    }
}

@Suite("HTTP API on a live loopback server", .serialized)
struct APIServerTests {
    @Test func healthIsOpenEverythingElseNeedsAToken() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            #expect(try await client.call(.get, "/healthz", as: nil, tokens: f.tokens).status == 200)
            #expect(try await client.call(.get, "/readyz", as: nil, tokens: f.tokens).status == 200)
            for uri in ["/factors", "/jobs", "/results", "/leaderboard"] {
                let (status, json) = try await client.call(.get, uri, as: nil, tokens: f.tokens)
                #expect(status == 401)
                #expect(((json as? [String: Any])?["error"] as? [String: Any])?["message"] != nil)
            }
            var headers: HTTPFields = [:]
            headers[.authorization] = "Bearer flk_not-a-token"
            #expect(try await client.execute(uri: "/factors", method: .get, headers: headers).status == .unauthorized)
        }
    }

    @Test func roleBoundaries() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            #expect(try await client.call(.post, "/factors", #"{"code":"MOM5","expression":"$close/Ref($close,5)-1"}"#, as: .researcher, tokens: t).status == 201)
            #expect(try await client.call(.post, "/factors", #"{"code":"W1","expression":"$open"}"#, as: .worker, tokens: t).status == 403)
            #expect(try await client.call(.get, "/factors", as: .worker, tokens: t).status == 403)
            #expect(try await client.call(.post, "/factors/MOM5/submit-review", as: .researcher, tokens: t).status == 200)
            #expect(try await client.call(.post, "/factors/MOM5/approve", as: .researcher, tokens: t).status == 403)
            #expect(try await client.call(.post, "/factors/MOM5/approve", as: .reviewer, tokens: t).status == 200)
            // The reviewer's own factor cannot be edited by a researcher.
            #expect(try await client.call(.post, "/factors", #"{"code":"REV1","expression":"Std($close,5)"}"#, as: .reviewer, tokens: t).status == 201)
            #expect(try await client.call(.patch, "/factors/REV1", #"{"expression":"Std($close,6)"}"#, as: .researcher, tokens: t).status == 403)
            #expect(try await client.call(.patch, "/factors/MOM5", #"{"expression":"$close/Ref($close,6)-1","note":"six"}"#, as: .researcher, tokens: t).status == 200)
            #expect(try await client.call(.post, "/jobs/dequeue", #"{"worker":"x"}"#, as: .researcher, tokens: t).status == 403)
            #expect(try await client.call(.post, "/jobs/dequeue", #"{"worker":"x"}"#, as: .worker, tokens: t).status == 204)
            #expect(try await client.call(.post, "/jobs/dequeue", #"{"worker":"x"}"#, as: .admin, tokens: t).status == 204)
            // Only admins manage tokens; a new token works at once, a revoked one never again.
            #expect(try await client.call(.post, "/tokens", #"{"name":"eve","role":"researcher"}"#, as: .reviewer, tokens: t).status == 403)
            let (created, body) = try await client.call(.post, "/tokens", #"{"name":"eve","role":"researcher"}"#, as: .admin, tokens: t)
            #expect(created == 201)
            var eve = t
            eve[.researcher] = try #require((body as? [String: Any])?["secret"] as? String)
            #expect(try await client.call(.get, "/factors", as: .researcher, tokens: eve).status == 200)
            #expect(try await client.call(.post, "/tokens/eve/revoke", as: .admin, tokens: t).status == 200)
            #expect(try await client.call(.get, "/factors", as: .researcher, tokens: eve).status == 401)
            #expect(try await client.call(.get, "/tokens", as: .researcher, tokens: t).status == 403)
            // Subscriptions: a worker may not pause one; an unknown id is 404; /me names the caller.
            let (subscribed, sub) = try await client.call(.post, "/subscriptions", #"{"url":"http://127.0.0.1:9/h","events":["job.failed"]}"#, as: .researcher, tokens: t)
            #expect(subscribed == 201)
            let subId = try #require((sub as? [String: Any])?["id"] as? String)
            #expect(try await client.call(.post, "/subscriptions/\(subId)/pause", as: .worker, tokens: t).status == 403)
            let (paused, pausedBody) = try await client.call(.post, "/subscriptions/\(subId)/pause", as: .reviewer, tokens: t)
            #expect(paused == 200 && (pausedBody as? [String: Any])?["active"] as? Bool == false)
            #expect(try await client.call(.post, "/subscriptions/none/resume", as: .reviewer, tokens: t).status == 404)
            let (_, me) = try await client.call(.get, "/me", as: .worker, tokens: t)
            #expect((me as? [String: Any])?["role"] as? String == "worker")
            // Every change is audited under the token's name.
            let audit = try f.store.audit(entity: "MOM5", limit: 10)
            #expect(audit.map(\.actor) == ["researcher", "reviewer", "researcher", "researcher"])
        }
    }

    @Test(.enabled(if: (try? PythonFactorRunner().versions()) != nil, "no python with numpy and pandas (factorlab python-setup); skipped"))
    func aPythonFactorIsRegisteredAndEditedThroughTheAPI() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            let source = "import numpy as np\nfields = [\"close\"]\nlookback = 5\n\ndef factor(data):\n    c = data[\"close\"]\n    out = np.full_like(c, np.nan)\n    out[:, 5:] = c[:, :-5]\n    return out / c - 1\n"
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["code": "PYMOM5", "kind": "python", "expression": source]), as: UTF8.self)
            let created = try await client.call(.post, "/factors", body, as: .researcher, tokens: t)
            let versions = (created.json as? [String: Any])?["versions"] as? [[String: Any]]
            #expect(created.status == 201 && versions?.first?["kind"] as? String == "python")
            // A Python error answers 422 with the traceback's line; the factor keeps its version.
            let broken = String(decoding: try JSONSerialization.data(withJSONObject: ["expression": "fields = [\"close\"]\ndef factor(data):\n    return data[\"close\"] / missing\n"]), as: UTF8.self)
            let refused = try await client.call(.patch, "/factors/PYMOM5", broken, as: .researcher, tokens: t)
            let message = ((refused.json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(refused.status == 422 && message.contains("NameError") && message.contains("PYMOM5.py\", line 3"), "\(message)")
            let read = try await client.call(.get, "/factors/PYMOM5", as: .researcher, tokens: t)
            #expect(((read.json as? [String: Any])?["versions"] as? [[String: Any]])?.count == 1)
            #expect(try await client.call(.post, "/factors", #"{"code":"K","kind":"ruby","expression":"x"}"#, as: .researcher, tokens: t).status == 400)
        }
    }

    @Test func badInputIsAnswered4xxWithAJSONError() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            _ = try await client.call(.post, "/factors", #"{"code":"MOM5","expression":"$close/Ref($close,5)-1"}"#, as: .researcher, tokens: t)
            let big = "{\"code\":\"BIG\",\"expression\":\"" + String(repeating: "a", count: 1_100_000) + "\"}"
            let cases: [(HTTPRequest.Method, String, String?, Int)] = [
                (.post, "/factors", "{not json", 400),
                (.post, "/factors", "[1,2]", 400),
                (.post, "/factors", #"{"code":5,"expression":"$close"}"#, 400),
                (.post, "/factors", #"{"code":"A","expresion":"$close"}"#, 400),
                (.post, "/factors", #"{"code":"A"}"#, 400),
                (.post, "/factors", #"{"code":"A","expression":"Mean($clsoe, 5)"}"#, 422),
                (.post, "/factors", #"{"code":"A","expression":"Mean($close, 5"}"#, 422),
                (.post, "/factors", #"{"code":"MOM5","expression":"$open"}"#, 409),
                (.post, "/factors", #"{"code":"B","expression":"$close / Ref($close, 5) - 1"}"#, 409),
                (.post, "/factors", big, 413),
                (.get, "/factors/NOPE", nil, 404),
                (.get, "/factors?status=bogus", nil, 400),
                (.post, "/factors/MOM5/rollback", #"{"version":9}"#, 404),
                (.post, "/factors/MOM5/approve", nil, 403),  // a researcher never approves
                (.post, "/expressions/validate", #"{"expression":"Foo($close)"}"#, 422),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01"}"#, 400),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01","end":"2021-02-01","horizons":[0]}"#, 400),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01","end":"2021-02-01","winsorize":"median"}"#, 400),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01","end":"2021-02-01","neutralize":"industry"}"#, 400),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01","end":"2021-02-01","zscore":"yes"}"#, 400),
                (.post, "/jobs", #"{"factors":["NOPE"],"start":"2021-01-01","end":"2021-02-01"}"#, 404),
                (.post, "/jobs", #"{"factors":["MOM5"],"start":"2021-01-01","end":"2021-02-01"}"#, 422),  // a draft, not approved
                (.get, "/jobs/NOPE", nil, 404),
                (.get, "/jobs?status=nope", nil, 400),
                (.post, "/jobs/NOPE/cancel", nil, 404),
                (.get, "/leaderboard?by=nonsense", nil, 400),
                (.get, "/leaderboard?top=0", nil, 400),
                (.get, "/results?horizon=x", nil, 400),
                (.get, "/results/series?run=r", nil, 400),
                (.get, "/no/such/route", nil, 404),
            ]
            for (method, uri, body, expected) in cases {
                let (status, json) = try await client.call(method, uri, body, as: .researcher, tokens: t)
                #expect(status == expected, "\(method) \(uri) \(body?.prefix(60) ?? ""): \(status)")
                if expected != 404 || uri != "/no/such/route" {
                    #expect(((json as? [String: Any])?["error"] as? [String: Any])?["message"] is String, "\(method) \(uri): no JSON error body")
                }
            }
            #expect(try await client.call(.post, "/factors/MOM5/approve", as: .reviewer, tokens: t).status == 409)  // still a draft
            let (_, validation) = try await client.call(.post, "/expressions/validate", #"{"expression":"Mean($clsoe, 5)"}"#, as: .researcher, tokens: t)
            let error = (validation as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["position"] as? Int == 6 && error?["suggestion"] as? String == "$close")
            let (peekStatus, peek) = try await client.call(.post, "/expressions/validate", #"{"expression":"Ref($close, -5)/$close - 1"}"#, as: .researcher, tokens: t)
            let peekError = (peek as? [String: Any])?["error"] as? [String: Any]
            #expect(peekStatus == 422 && peekError?["position"] as? Int == 13 && (peekError?["message"] as? String)?.contains("ahead") == true, "\(peek ?? "")")
        }
    }

    @Test func fuzzedBodiesNeverProduceA500() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            _ = try await client.call(.post, "/factors", #"{"code":"MOM5","expression":"$close/Ref($close,5)-1"}"#, as: .admin, tokens: t)
            let routes: [(HTTPRequest.Method, String)] = [
                (.post, "/factors"), (.patch, "/factors/MOM5"), (.post, "/factors/MOM5/rollback"), (.post, "/expressions/validate"),
                (.post, "/jobs"), (.post, "/jobs/dequeue"), (.post, "/tasks/x/heartbeat"), (.post, "/tasks/x/complete"),
                (.post, "/factors/MOM5/submit-review"), (.get, "/results"), (.get, "/leaderboard"),
                (.put, "/alert-rules/ic_drop"), (.put, "/alert-rules/new_rule"), (.post, "/subscriptions"),
            ]
            let values = ["null", "0", "-1", "1e308", "\"\"", "\"$close\"", "\"Mean(\"", "[]", "{}", "true", "\"2021-13-45\"",
                          "[\"MOM5\"]", "\"\\u0000\"", "99999999999999999999", "\"" + String(repeating: "x", count: 300) + "\""]
            let keys = ["code", "expression", "version", "note", "factors", "start", "end", "horizons", "worker", "results", "error",
                        "batchSize", "category", "allApproved", "tags", "windows", "leaseSeconds", "kind", "threshold", "lookback", "severity",
                        "scope", "muted", "url", "events", "filter", "secret"]
            var generator = SystemRandomNumberGenerator()
            var statuses: [Int: Int] = [:]
            for k in 0..<250 {
                let (method, uri) = routes[k % routes.count]
                let fields = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    "\"\(keys.randomElement(using: &generator)!)\":\(values.randomElement(using: &generator)!)"
                }
                let body = k % 17 == 0 ? String(repeating: "{", count: k % 50 + 1) : "{" + fields.joined(separator: ",") + "}"
                let role = Role.allCases[k % Role.allCases.count]
                let (status, _) = try await client.call(method, uri, body, as: role, tokens: t)
                statuses[status, default: 0] += 1
                #expect(status < 500, "\(method) \(uri) as \(role): \(body.prefix(120)) → \(status)")
            }
            #expect(statuses.keys.contains { $0 >= 400 })
        }
    }

    @Test func aRemoteWorkerCompletesAJobThroughTheAPI() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            for (code, expression) in [("MOM5", "$close/Ref($close,5)-1"), ("VOL10", "Std($close/Ref($close,1)-1, 10)")] {
                #expect(try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"\(expression)\"}", as: .researcher, tokens: t).status == 201)
                #expect(try await client.call(.post, "/factors/\(code)/submit-review", as: .researcher, tokens: t).status == 200)
                #expect(try await client.call(.post, "/factors/\(code)/approve", as: .reviewer, tokens: t).status == 200)
            }
            let (status, submitted) = try await client.call(.post, "/jobs",
                #"{"allApproved":true,"universes":["core20"],"start":"2021-06-01","end":"2022-06-30","horizons":[1,5],"batchSize":1}"#,
                as: .researcher, tokens: t)
            #expect(status == 201)
            let job = try #require((submitted as? [String: Any])?["job"] as? [String: Any])
            let jobId = try #require(job["id"] as? String), runId = try #require(job["runId"] as? String)
            let runner = TaskRunner(threads: 1)
            var completed = 0
            while true {
                let (leaseStatus, lease) = try await client.call(.post, "/jobs/dequeue", #"{"worker":"remote-1","leaseSeconds":30}"#, as: .worker, tokens: t)
                if leaseStatus == 204 { break }
                #expect(leaseStatus == 200)
                let leaseObject = try #require(lease as? [String: Any])
                let task = try #require(leaseObject["task"] as? [String: Any])
                let taskId = try #require(task["id"] as? String)
                let payloadData = try JSONSerialization.data(withJSONObject: try #require(leaseObject["payload"]))
                let payload = try JSONDecoder().decode(TaskPayload.self, from: payloadData)
                #expect(try await client.call(.post, "/tasks/\(taskId)/heartbeat", #"{"worker":"remote-1"}"#, as: .worker, tokens: t).status == 200)
                let results = try runner.run(payload, runId: runId)
                struct Body: Encodable { var worker: String; var results: [Item] }
                struct Item: Encodable { var result: ResultRecord; var series: [ResultSeriesRow] }
                // NaN travels as JSON null; the server reads null as NaN.
                let json = String(decoding: try JSONEncoder.nullNaN(Body(worker: "remote-1", results: results.map { Item(result: $0.result, series: $0.series) })), as: UTF8.self)
                let (done, _) = try await client.call(.post, "/tasks/\(taskId)/complete", json, as: .worker, tokens: t)
                #expect(done == 200)
                completed += 1
            }
            #expect(completed == 2)
            let (_, detail) = try await client.call(.get, "/jobs/\(jobId)", as: .researcher, tokens: t)
            #expect(((detail as? [String: Any])?["job"] as? [String: Any])?["status"] as? String == "SUCCESS")
            let (_, stored) = try await client.call(.get, "/results?run=\(runId)", as: .researcher, tokens: t)
            #expect((stored as? [Any])?.count == 2 * 2)
            let (_, board) = try await client.call(.get, "/leaderboard?horizon=1", as: .reviewer, tokens: t)
            #expect((board as? [Any])?.count == 2)
        }
    }
}

@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
    @Test func metricsCoverTheQueueTasksAndHTTP() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            _ = try await client.call(.post, "/factors", #"{"code":"MOM5","expression":"$close/Ref($close,5)-1"}"#, as: .researcher, tokens: t)
            _ = try await client.call(.post, "/jobs", #"{"factors":["MOM5"],"includeDrafts":true,"universes":["core20"],"start":"2021-06-01","end":"2021-12-31","horizons":[1]}"#,
                                      as: .researcher, tokens: t)
            #expect(try await client.call(.get, "/metrics", as: nil, tokens: t).status == 401)
            var headers: HTTPFields = [:]
            headers[.authorization] = "Bearer " + t[.worker]!
            var text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: headers).body)
            #expect(text.contains("factorlab_queue_depth 1"))
            #expect(text.contains("factorlab_tasks_running 0"))
            let store = f.store
            _ = try await blocking { Worker(store: store, options: .init(name: "w", mode: .untilEmpty, pollSeconds: 0.05)).run().count }
            text = String(buffer: try await client.execute(uri: "/metrics", method: .get, headers: headers).body)
            #expect(text.contains("factorlab_queue_depth 0"))
            #expect(text.contains("factorlab_task_duration_seconds_count"))
            #expect(text.contains("factorlab_task_failures 0"))
            #expect(text.contains("factorlab_evaluations_per_second"))
            #expect(text.contains("factorlab_http_requests_total{"))
            #expect(text.contains("route=\"/factors\""))
            #expect(text.contains("factorlab_http_request_duration_seconds"))
        }
    }
}

@Suite("OpenAPI document", .serialized)
struct OpenAPITests {
    @Test func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let served = try APIServer.documentedRoutes(f.services)
        #expect(served.count >= 22)
        try await f.app().test(.live) { client in
            let (status, document) = try await client.call(.get, "/openapi.json", as: nil, tokens: f.tokens)
            #expect(status == 200)
            let doc = try #require(document as? [String: Any])
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths { for method in operations.keys { documented.insert("\(method) \(path)") } }
            let expected = Set(served.map { "\($0.method) " + $0.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/").prefixingSlash })
            #expect(documented == expected.union(["get /openapi.json"]))
            // Each documented route answers from a handler (JSON, or 204), never the router's bare 404.
            for entry in documented.sorted() {
                let parts = entry.split(separator: " ")
                let method = HTTPRequest.Method(rawValue: parts[0].uppercased())!
                let uri = parts[1].replacingOccurrences(of: "{code}", with: "NOPE").replacingOccurrences(of: "{id}", with: "NOPE")
                    .replacingOccurrences(of: "{name}", with: "NOPE")
                var headers: HTTPFields = [.contentType: "application/json"]
                headers[.authorization] = "Bearer " + f.tokens[.admin]!
                let response = try await client.execute(uri: uri, method: method, headers: headers,
                                                        body: method == .get ? nil : ByteBuffer(string: "{}"))
                let json = try? JSONSerialization.jsonObject(with: Data(buffer: response.body))
                let isText = response.headers[.contentType]?.hasPrefix("text/plain") == true  // /metrics
                #expect(response.status == .noContent || json != nil || isText, "\(entry): \(response.status) without a JSON body")
                #expect(response.status.code < 500, "\(entry): \(response.status)")
            }
        }
    }
}

extension String {
    var prefixingSlash: String { hasPrefix("/") ? self : "/" + self }
}

@Suite("factorlab worker --server", .serialized)
struct RemoteWorkerProcessTests {
    @Test func aWorkerProcessRunsAJobThroughTheAPI() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            for code in ["MOM3", "MOM7"] {
                let n = code.dropFirst(3)
                _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"$close/Ref($close,\(n))-1\"}", as: .researcher, tokens: t)
            }
            let (status, submitted) = try await client.call(.post, "/jobs",
                #"{"factors":["MOM3","MOM7"],"includeDrafts":true,"universes":["core20"],"start":"2021-06-01","end":"2022-06-30","horizons":[1],"batchSize":1}"#,
                as: .researcher, tokens: t)
            #expect(status == 201)
            let job = try #require((submitted as? [String: Any])?["job"] as? [String: Any])
            let port = try #require(client.port)
            let token = try #require(t[.worker])
            let (exit, log) = try await blocking {
                try FactorlabExecutable.run(["worker", "--server", "http://127.0.0.1:\(port)", "--token", token, "--until-empty", "--name", "remote"],
                                            environment: ["FACTOR_CACHE_DIR": f.directory + "/cache"])
            }
            #expect(exit == 0, "\(log)")
            let (_, detail) = try await client.call(.get, "/jobs/\(job["id"] as? String ?? "")", as: .researcher, tokens: t)
            #expect(((detail as? [String: Any])?["job"] as? [String: Any])?["status"] as? String == "SUCCESS", "\(log)")
            #expect(try f.store.results(matching: ResultFilter(runId: job["runId"] as? String)).count == 2)
        }
    }
}

@Suite("factorlab run-task --server", .serialized)
struct RemoteRunTaskTests {
    struct Report: Decodable { var status: String; var alreadyDone: Bool; var results: Int }

    @Test func runTaskLeasesOneGivenTaskThroughTheAPIAndReportsEachState() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            _ = try await client.call(.post, "/factors", #"{"code":"MOM3","expression":"$close/Ref($close,3)-1"}"#, as: .researcher, tokens: t)
            let (_, submitted) = try await client.call(.post, "/jobs",
                #"{"factors":["MOM3"],"includeDrafts":true,"universes":["core20","all"],"start":"2021-06-01","end":"2022-06-30","horizons":[1,5]}"#,
                as: .researcher, tokens: t)
            let job = try #require((submitted as? [String: Any])?["job"] as? [String: Any])
            let jobId = try #require(job["id"] as? String)
            let tasks = try f.store.tasks(jobId: jobId).map(\.id)
            #expect(tasks.count == 2)
            let port = try #require(client.port)
            let env = ["FACTOR_TOKEN": try #require(t[.worker]), "FACTOR_CACHE_DIR": f.directory + "/cache", "FACTOR_PLATFORM_DB": f.directory + "/unused.db"]
            func runTask(_ id: String) async throws -> (Int32, Report?, String) {
                let (status, out, err) = try await blocking {
                    try FactorlabExecutable.output(["run-task", id, "--server", "http://127.0.0.1:\(port)", "--json"], environment: env)
                }
                return (status, try? JSONDecoder().decode(Report.self, from: out), err)
            }
            // Only workers lease; a lease held by another worker is a 409 that names the task's state.
            #expect(try await client.call(.post, "/tasks/\(tasks[0])/lease", #"{"worker":"w"}"#, as: .researcher, tokens: t).status == 403)
            #expect(try await client.call(.post, "/tasks/\(tasks[0])/lease", #"{"worker":"other","leaseSeconds":60}"#, as: .worker, tokens: t).status == 200)
            let (conflict, answer) = try await client.call(.post, "/tasks/\(tasks[0])/lease", #"{"worker":"w"}"#, as: .worker, tokens: t)
            #expect(conflict == 409)
            #expect(((answer as? [String: Any])?["error"] as? [String: Any])?["taskStatus"] as? String == "RUNNING")
            var (status, report, log) = try await runTask(tasks[0])
            #expect(status == 75 && report?.status == "LEASED_ELSEWHERE", "\(log)")
            // Released (a worker stopping): runnable again at once, the attempt not counted.
            #expect(try await client.call(.post, "/tasks/\(tasks[0])/release", #"{"worker":"other"}"#, as: .worker, tokens: t).status == 200)
            #expect(try f.store.task(id: tasks[0])?.attempts == 0)
            (status, report, log) = try await runTask(tasks[0])
            #expect(status == 0 && report?.status == "SUCCESS" && report?.results == 2, "\(log)")
            (status, report, log) = try await runTask(tasks[0])
            #expect(status == 0 && report?.alreadyDone == true && report?.results == 0, "\(log)")
            #expect(try f.store.results(matching: ResultFilter(runId: job["runId"] as? String)).count == 2)
            #expect(try await client.call(.post, "/jobs/\(jobId)/cancel", as: .researcher, tokens: t).status == 200)
            (status, report, log) = try await runTask(tasks[1])
            #expect(status == 99 && report?.status == "CANCELLED", "\(log)")
            (status, _, log) = try await runTask("no-such-task")
            #expect(status == 65 && log.contains("no task with id no-such-task"), "\(log)")
            // The job detail carries what show-job --json carries.
            let (_, detail) = try await client.call(.get, "/jobs/\(jobId)?top=1", as: .researcher, tokens: t)
            let object = try #require(detail as? [String: Any])
            #expect((object["top"] as? [Any])?.count == 1 && object["failures"] is [Any])
            #expect(try await client.call(.get, "/jobs/\(jobId)?top=zero", as: .researcher, tokens: t).status == 400)
        }
    }

    @Test func sigtermGivesTheLeaseBackThroughTheServer() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let t = f.tokens
            let codes = (1...30).map { "MOM\($0)" }
            for (k, code) in codes.enumerated() {
                _ = try await client.call(.post, "/factors", "{\"code\":\"\(code)\",\"expression\":\"$close/Ref($close,\(k + 1))-1\"}",
                                          as: .researcher, tokens: t)
            }
            let body = "{\"factors\":[\(codes.map { "\"\($0)\"" }.joined(separator: ","))],\"includeDrafts\":true,\"universes\":[\"all\"],"
                + "\"start\":\"2021-01-04\",\"end\":\"2022-12-30\",\"batchSize\":30}"
            let (_, submitted) = try await client.call(.post, "/jobs", body, as: .researcher, tokens: t)
            let jobId = try #require(((submitted as? [String: Any])?["job"] as? [String: Any])?["id"] as? String)
            let taskId = try #require(try f.store.tasks(jobId: jobId).first?.id)
            let port = try #require(client.port)
            let (process, err) = try FactorlabExecutable.launchCapturing(
                ["run-task", taskId, "--server", "http://127.0.0.1:\(port)", "--json"],
                environment: ["FACTOR_TOKEN": try #require(t[.worker]), "FACTOR_CACHE_DIR": f.directory + "/cache"])
            let store = f.store
            let leased = try await blocking {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    if try store.task(id: taskId)?.status == .running { return true }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                return false
            }
            #expect(leased)
            kill(process.processIdentifier, SIGTERM)
            let log = try await blocking { FactorlabExecutable.finish(process, err).stderr }
            #expect(process.terminationStatus == 75, "\(log)")
            let task = try #require(try f.store.task(id: taskId))
            #expect(task.status == .pending && task.leaseOwner == nil && task.attempts == 0, "\(task)")
        }
    }

    @Test func runTaskSaysTryAgainWhenTheServerCannotBeReached() async throws {
        let (status, _, log) = try await blocking {
            try FactorlabExecutable.output(["run-task", "any", "--server", "http://127.0.0.1:9", "--json"], environment: ["FACTOR_TOKEN": "x"])
        }
        #expect(status == 75, "\(log)")
        #expect(log.contains("cannot reach http://127.0.0.1:9"))
    }
}

extension JSONEncoder {
    /// JSON with NaN and infinities as null.
    static func nullNaN<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "__x__", negativeInfinity: "__x__", nan: "__x__")
        let text = String(decoding: try encoder.encode(value), as: UTF8.self).replacingOccurrences(of: "\"__x__\"", with: "null")
        return Data(text.utf8)
    }
}
