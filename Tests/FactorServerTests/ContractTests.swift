import FactorPlatform
import FactorStore
import FactorTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FactorServer

/// The API's contract: the OpenAPI document describes bodies, parameters and errors from the handlers' own types;
/// lists page by cursor; a factor's ETag guards its changes; every error has one shape.
@Suite("API contract", .serialized)
struct ContractTests {
    private func error(_ json: Any?) -> [String: Any] { ((json as? [String: Any])?["error"] as? [String: Any]) ?? [:] }

    @Test func theDocumentDescribesBodiesParametersRepliesAndErrors() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        let text = try APIServer.openAPIDocument(f.services)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: [String: Any]]])
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])

        // The registration body: the fields NewFactor reads, code and expression required, nothing else accepted.
        let register = try #require(paths["/factors"]?["post"])
        let body = try #require(((register["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])
        #expect((body["schema"] as? [String: String])?["$ref"] == "#/components/schemas/NewFactor")
        let newFactor = try #require(schemas["NewFactor"])
        #expect(Set((newFactor["properties"] as? [String: Any])?.keys.map { $0 } ?? []) ==
                ["code", "expression", "kind", "name", "category", "owner", "tags", "description"])
        #expect(newFactor["required"] as? [String] == ["code", "expression"])
        #expect(newFactor["additionalProperties"] as? Bool == false)
        let kind = ((newFactor["properties"] as? [String: Any])?["kind"] as? [String: Any])?["anyOf"] as? [[String: Any]]
        #expect(kind?.first?["enum"] as? [String] == FactorKind.allCases.map(\.rawValue))
        #expect((body["example"] as? [String: Any])?["code"] as? String == "MOM5")
        let registerReplies = try #require(register["responses"] as? [String: Any])
        #expect(Set(registerReplies.keys).isSuperset(of: ["201", "400", "401", "403", "409", "413", "422", "500", "503"]))

        // Results: numbers may be null (NaN); the list is paged and its parameters typed.
        let result = try #require(schemas["ResultRecord"]?["properties"] as? [String: [String: Any]])
        #expect(result["rankICIR"]?["type"] as? [String] == ["number", "null"])
        #expect(result["n"]?["type"] as? String == "integer")
        let listResults = try #require(paths["/results"]?["get"])
        let parameters = try #require(listResults["parameters"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0["name"] as! String, $0) })
        #expect(Set(byName.keys) == ["factor", "run", "universe", "freq", "horizon", "from", "to", "limit", "cursor"])
        #expect((byName["limit"]?["schema"] as? [String: Any])?["maximum"] as? Int == 1000)
        #expect((byName["from"]?["schema"] as? [String: Any])?["format"] as? String == "date")
        let ok = try #require((listResults["responses"] as? [String: Any])?["200"] as? [String: Any])
        #expect((ok["headers"] as? [String: Any])?["X-Next-Cursor"] != nil)

        // One error shape, referenced by every error reply.
        let errorBody = try #require((schemas["Error"]?["properties"] as? [String: Any])?["error"] as? [String: Any])
        #expect(errorBody["required"] as? [String] == ["code", "message", "field", "status"])
        for (path, operations) in paths {
            for (method, operation) in operations {
                let replies = try #require(operation["responses"] as? [String: [String: Any]], "\(method) \(path)")
                #expect(operation["operationId"] as? String != nil)
                for (status, reply) in replies where status.hasPrefix("4") || status.hasPrefix("5") {
                    let schema = ((reply["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: String]
                    #expect(schema?["$ref"] == "#/components/schemas/Error", "\(method) \(path) \(status)")
                }
                #expect(replies.keys.contains { $0.hasPrefix("2") || $0 == "304" }, "\(method) \(path) has no success reply")
            }
        }
        // The worker protocol's 204 and the stream's two media types.
        #expect((paths["/jobs/dequeue"]?["post"]?["responses"] as? [String: Any])?["204"] != nil)
        let events = ((paths["/events"]?["get"]?["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
        #expect(Set(events?.keys.map { $0 } ?? []) == ["application/json", "text/event-stream"])
    }

    @Test func listsPageByCursorAndErrorsNameTheirField() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            for (i, code) in ["PA", "PB", "PC"].enumerated() {
                let (status, _) = try await client.call(.post, "/factors", #"{"code": "\#(code)", "expression": "Mean($close, \#(i + 2)) / $close"}"#,
                                                       as: .researcher, tokens: f.tokens)
                #expect(status == 201)
            }
            var headers: HTTPFields = [:]
            headers[.authorization] = "Bearer " + f.tokens[.researcher]!
            let first = try await client.execute(uri: "/factors?limit=2", method: .get, headers: headers)
            let firstCodes = (try JSONSerialization.jsonObject(with: Data(buffer: first.body)) as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(firstCodes == ["PA", "PB"])
            let cursor = try #require(first.headers[HTTPField.Name("X-Next-Cursor")!])
            #expect(first.headers[HTTPField.Name("Link")!]?.contains("rel=\"next\"") == true)
            let second = try await client.execute(uri: "/factors?limit=2&cursor=\(cursor)", method: .get, headers: headers)
            let secondCodes = (try JSONSerialization.jsonObject(with: Data(buffer: second.body)) as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(secondCodes == ["PC"])
            #expect(second.headers[HTTPField.Name("X-Next-Cursor")!] == nil)

            let (badCursor, badCursorBody) = try await client.call(.get, "/factors?cursor=%21%21", as: .researcher, tokens: f.tokens)
            #expect(badCursor == 400)
            #expect(error(badCursorBody)["code"] as? String == "invalid_cursor")
            #expect(error(badCursorBody)["field"] as? String == "cursor")
            // A forged cursor pointing past any list (the index is the client's to send) is refused, not a crash.
            let forged = Data(#"{"key":"gone","index":9223372036854775807}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let (overflow, overflowBody) = try await client.call(.get, "/factors?limit=2&cursor=\(forged)", as: .researcher, tokens: f.tokens)
            #expect(overflow == 400 && error(overflowBody)["code"] as? String == "invalid_cursor")
            let gone = Data(#"{"key":"gone","index":1}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let (resumed, resumedBody) = try await client.call(.get, "/factors?limit=2&cursor=\(gone)", as: .researcher, tokens: f.tokens)
            #expect(resumed == 200 && (resumedBody as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["PC"])
            let (badLimit, badLimitBody) = try await client.call(.get, "/factors?limit=0", as: .researcher, tokens: f.tokens)
            #expect(badLimit == 400)
            #expect(error(badLimitBody)["field"] as? String == "limit")
            let (badStatus, badStatusBody) = try await client.call(.get, "/jobs?status=DONE", as: .researcher, tokens: f.tokens)
            #expect(badStatus == 400)
            #expect(error(badStatusBody)["field"] as? String == "status")
            #expect((error(badStatusBody)["message"] as? String)?.contains("SUCCESS") == true)
            let (typo, typoBody) = try await client.call(.post, "/factors", #"{"code": "PD", "expresion": "$close"}"#, as: .researcher, tokens: f.tokens)
            #expect(typo == 400)
            #expect(error(typoBody)["code"] as? String == "unknown_field")
            #expect(error(typoBody)["field"] as? String == "expresion")
            let (missing, missingBody) = try await client.call(.post, "/factors", #"{"code": "PD"}"#, as: .researcher, tokens: f.tokens)
            #expect(missing == 400)
            #expect(error(missingBody)["field"] as? String == "expression")
            let (invalid, invalidBody) = try await client.call(.post, "/factors", #"{"code": "PD", "expression": "Mean($close, 5"}"#, as: .researcher, tokens: f.tokens)
            #expect(invalid == 422)
            #expect(error(invalidBody)["code"] as? String == "invalid_expression")
            #expect(error(invalidBody)["position"] as? Int != nil)
            let (unknown, unknownBody) = try await client.call(.get, "/factors/NOPE", as: .researcher, tokens: f.tokens)
            #expect(unknown == 404)
            #expect(error(unknownBody)["code"] as? String == "unknown_factor")
            #expect(error(unknownBody).keys.contains("field"))
        }
    }

    /// Found by Schemathesis on PostgreSQL, which cannot store U+0000 in text: such input is a 400 naming where it was.
    @Test(arguments: [false, true])
    func textWithNULIsRefusedWhereItEnters(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        try await f.app().test(.live) { client in
            let (body, bodyJSON) = try await client.call(.post, "/jobs/dequeue", #"{"worker": "w\u0000x"}"#, as: .worker, tokens: f.tokens)
            #expect(body == 400 && error(bodyJSON)["field"] as? String == "worker")
            let (nested, nestedJSON) = try await client.call(.post, "/subscriptions", #"{"url": "http://127.0.0.1:9/h", "events": ["job.failed"], "filter": {"factors": ["A\u0000"]}}"#,
                                                             as: .researcher, tokens: f.tokens)
            #expect(nested == 400 && error(nestedJSON)["field"] as? String == "filter.factors.0")
            let (query, queryJSON) = try await client.call(.get, "/results?factor=A%00B", as: .researcher, tokens: f.tokens)
            #expect(query == 400 && error(queryJSON)["field"] as? String == "factor")
            // Path parameters reach handlers still percent-encoded: an unknown code, never a database error.
            let (path, _) = try await client.call(.get, "/factors/A%00B", as: .researcher, tokens: f.tokens)
            #expect(path == 404)
            #expect(try await client.call(.get, "/readyz", as: nil, tokens: f.tokens).status == 200)
        }
    }

    /// Follows `X-Next-Cursor` from `path` (at most 10 pages, so a cursor that never ends fails instead of hanging).
    static func everyPage(_ client: some TestClientProtocol, _ path: String, token: String) async throws -> (items: [[String: Any]], pages: Int) {
        var headers: HTTPFields = [:]
        headers[.authorization] = "Bearer " + token
        var items: [[String: Any]] = [], uri = path, pages = 0
        while pages < 10 {
            let response = try await client.execute(uri: uri, method: .get, headers: headers)
            items += try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]])
            pages += 1
            guard let next = response.headers[HTTPField.Name("X-Next-Cursor")!] else { break }
            uri = path + "&cursor=" + next
        }
        return (items, pages)
    }

    /// Alerts and deliveries are paged in the store (by id, newest first), not sliced from a whole list.
    @Test(arguments: [false, true])
    func alertsArePagedInTheStore(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        try f.store.insertAlerts((1...5).map { AlertRecord(rule: "coverage", severity: "warning", subject: "F\($0)", message: "low", jobId: nil, createdAt: Clock.now()) })
        _ = try f.store.acknowledgeAlert(id: try #require(try f.store.alerts(limit: 10).first { $0.subject == "F4" }?.id), actor: "x")
        try await f.app().test(.live) { client in
            let (alerts, pages) = try await Self.everyPage(client, "/alerts?limit=2", token: f.tokens[.researcher]!)
            #expect(alerts.compactMap { $0["subject"] as? String } == ["F5", "F4", "F3", "F2", "F1"] && pages == 3)
            let (_, open) = try await client.call(.get, "/alerts?open=true&limit=3", as: .researcher, tokens: f.tokens)
            #expect((open as? [[String: Any]])?.compactMap { $0["subject"] as? String } == ["F5", "F3", "F2"])
            let other = Data(#"{"key":"MOM5","index":0}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            #expect(try await client.call(.get, "/alerts?cursor=\(other)", as: .researcher, tokens: f.tokens).status == 400)
        }
    }

    /// Results are paged in the store too, in the order they were stored; without limit the list is whole.
    @Test(arguments: [false, true])
    func resultsArePagedInTheStore(postgres: Bool) async throws {
        if postgres && !TestPostgres.available { print(TestPostgres.skipNote); return }
        let f = try ServerFixture(postgres: postgres)
        defer { f.remove() }
        let results = (1...5).map { h in
            (result: ResultRecord(key: ResultKey(runId: "r1", factorCode: "RK", factorVersion: 1, universe: "csi300", frequency: "day",
                                                 start: "2020-01-02", end: "2020-12-31", horizon: h, settingsHash: "s"),
                                  createdAt: Clock.now(), delay: 1, quantiles: 5, error: nil), series: [ResultSeriesRow]())
        }
        try f.store.saveResults(run: RunRecord(runId: "r1", createdAt: Clock.now(), kind: "test", parameters: "{}"), results: results, actor: "t")
        try await f.app().test(.live) { client in
            let (results, pages) = try await Self.everyPage(client, "/results?factor=RK&limit=2", token: f.tokens[.researcher]!)
            #expect(results.compactMap { ($0["key"] as? [String: Any])?["horizon"] as? Int } == [1, 2, 3, 4, 5] && pages == 3)
            let (_, whole) = try await client.call(.get, "/results?factor=RK", as: .researcher, tokens: f.tokens)
            #expect((whole as? [[String: Any]])?.count == 5)
            let (_, filtered) = try await client.call(.get, "/results?factor=RK&horizon=3&limit=2", as: .researcher, tokens: f.tokens)
            #expect((filtered as? [[String: Any]])?.count == 1)
            let forged = Data(#"{"key":"not a key","index":0}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let (status, body) = try await client.call(.get, "/results?cursor=\(forged)", as: .researcher, tokens: f.tokens)
            #expect(status == 400 && error(body)["code"] as? String == "invalid_cursor")
        }
    }

    @Test func aFactorsETagGuardsItsChanges() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            #expect(try await client.call(.post, "/factors", #"{"code": "ET1", "expression": "Mean($close, 5) / $close"}"#,
                                          as: .researcher, tokens: f.tokens).status == 201)
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[.authorization] = "Bearer " + f.tokens[.researcher]!
            let read = try await client.execute(uri: "/factors/ET1", method: .get, headers: headers)
            let tag = try #require(read.headers[.eTag])
            #expect(tag.hasPrefix("\"v1-draft-"))

            var unchanged = headers
            unchanged[.ifNoneMatch] = tag
            #expect(try await client.execute(uri: "/factors/ET1", method: .get, headers: unchanged).status == .notModified)

            var conditional = headers
            conditional[.ifMatch] = tag
            let edit = try await client.execute(uri: "/factors/ET1", method: .patch, headers: conditional,
                                                body: ByteBuffer(string: #"{"expression": "Mean($close, 10) / $close"}"#))
            #expect(edit.status == .ok)
            let newTag = try #require(edit.headers[.eTag])
            #expect(newTag != tag && newTag.hasPrefix("\"v2-draft-"))

            // A second edit made with the tag read before the first is refused, and nothing is written.
            let stale = try await client.execute(uri: "/factors/ET1", method: .patch, headers: conditional,
                                                 body: ByteBuffer(string: #"{"expression": "Mean($close, 20) / $close"}"#))
            #expect(stale.status == .preconditionFailed)
            let body = try JSONSerialization.jsonObject(with: Data(buffer: stale.body))
            #expect(error(body)["code"] as? String == "precondition_failed")
            #expect(error(body)["field"] as? String == "If-Match")
            #expect(try f.store.factor(code: "ET1")?.latestVersion == 2)
            var review = headers
            review[.ifMatch] = tag
            #expect(try await client.execute(uri: "/factors/ET1/submit-review", method: .post, headers: review).status == .preconditionFailed)
            review[.ifMatch] = newTag
            let moved = try await client.execute(uri: "/factors/ET1/submit-review", method: .post, headers: review)
            #expect(moved.status == .ok)
            #expect(moved.headers[.eTag]?.hasPrefix("\"v2-in_review-") == true)
        }
    }

    @Test func eventsAreAJSONPageWithoutAnEventStreamAccept() async throws {
        let f = try ServerFixture()
        defer { f.remove() }
        try await f.app().test(.live) { client in
            #expect(try await client.call(.post, "/factors", #"{"code": "EV1", "expression": "Mean($close, 5) / $close"}"#,
                                          as: .researcher, tokens: f.tokens).status == 201)
            for key in ["a", "b", "c"] {
                let job = #"{"factors": ["EV1"], "includeDrafts": true, "start": "2020-01-01", "end": "2020-03-31", "universes": ["all"], "idempotencyKey": "\#(key)"}"#
                #expect(try await client.call(.post, "/jobs", job, as: .researcher, tokens: f.tokens).status == 201)
            }
            let (status, json) = try await client.call(.get, "/events?limit=2", as: .researcher, tokens: f.tokens)
            #expect(status == 200)
            let page = try #require(json as? [[String: Any]])
            #expect(page.map { $0["kind"] as? String } == ["job.submitted", "job.submitted"])
            let last = try #require(page.last?["id"] as? Int)
            let (_, rest) = try await client.call(.get, "/events?after=\(last)", as: .researcher, tokens: f.tokens)
            #expect((rest as? [[String: Any]])?.count == 1)
            let (_, byCursor) = try await client.call(.get, "/events?cursor=\(last)&limit=2", as: .researcher, tokens: f.tokens)
            #expect((byCursor as? [[String: Any]])?.count == 1)
        }
    }
}
