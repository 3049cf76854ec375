import FactorStore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// `GET /events`: with `Accept: text/event-stream`, the live stream as Server-Sent Events; otherwise a JSON page of the
/// stored log after `after` (what a script or a contract fuzzer reads). Each event is `id: <log id>`, `event: <kind>` and
/// `data: <the JSON envelope webhooks get>`. A client that reconnects with `Last-Event-ID` (or `?after=`) gets every
/// event after that id exactly once, in order, from the stored log; without either it starts with what happens next.
/// `?job=ID` keeps one job's events (submission, task ends with progress, the end, its alerts). A comment line every
/// 15 s keeps idle connections open through proxies.
struct EventRoutes {
    let services: Services
    static let heartbeat: Duration = .seconds(15)
    static let idleCheck: Duration = .milliseconds(250)

    func register(on router: APIRouter) {
        let hub = services.events
        let store = services.store
        router.get("/events", "Events after a point of the stored log (job progress, task ends, job ends, alerts, approvals): a JSON page, oldest first, or with Accept: text/event-stream the live stream as Server-Sent Events; Last-Event-ID or after=N resumes; job=ID keeps one job's",
                   query: [.integer("after", 0...Int.max, "the last event id seen (JSON: default 0; stream: default now)"), .string("job", "only this job's events"),
                           .integer("cursor", 0...Int.max, "JSON: X-Next-Cursor of the previous page (the same as after=)"),
                           .integer("limit", 1...Pagination.maximumLimit, "JSON: at most this many (default 100); more follow when the reply has X-Next-Cursor")],
                   headers: [HeaderParameter(name: "Last-Event-ID", help: "The last event id seen (as after=)", pattern: "^[0-9]{1,18}$")],
                   replies: [Reply(status: 200, content: .streamOrList(StreamEvent.self),
                                   help: "A page of events (application/json), or the stream (text/event-stream)",
                                   headers: ["X-Next-Cursor": "JSON: the cursor (an event id) of the next page, when this one is full",
                                             "Link": "JSON: <URL of the next page>; rel=\"next\""])]) { request, context in
            try context.require([.researcher, .reviewer], to: "follow events")
            let q = request.uri.queryParameters
            let jobId = q["job"].map(String.init)
            var cursor: Int64?
            if let header = request.headers[values: HTTPField.Name("Last-Event-ID")!].first {
                guard let id = Int64(header.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                    throw APIError(.badRequest, "Last-Event-ID must be an event id (a whole number), not '\(header)'", field: "Last-Event-ID")
                }
                cursor = id
            } else if let text = q["after"] ?? q["cursor"] {
                cursor = Int64(String(text))
            }
            let streaming = request.headers[values: .accept].contains { $0.contains("text/event-stream") }
            if !streaming {
                let limit = q["limit"].flatMap { Int($0) } ?? 100
                let page = try store.events(after: cursor ?? 0, upTo: nil, jobId: jobId, limit: limit)
                var response = try JSONIO.response(page)
                if page.count == limit, let last = page.last {
                    Pagination.announceNext(&response, request: request, cursor: String(last.id))
                }
                return response
            }
            let start = try await hub.attach()
            let from = cursor ?? start
            let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                                       HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var position = from
                var quietSince = ContinuousClock.now
                do {
                    try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                    // A stream ends when the server shuts down (it would otherwise hold the graceful shutdown open).
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        var batch: [StreamEvent] = []
                        switch await hub.read(after: position, jobId: jobId) {
                        case .events(let events, let through):
                            batch = events
                            position = max(position, through)
                        case .database(let through):
                            // Older than the hub's memory: a page of the log (of the job, by its index); a short page
                            // means nothing more up to `through`.
                            let page = try store.events(after: position, upTo: through, jobId: jobId, limit: 500)
                            batch = page
                            position = page.count < 500 ? through : (page.last?.id ?? through)
                        }
                        if !batch.isEmpty {
                            var text = ""
                            for e in batch { text += "id: \(e.id)\nevent: \(e.kind)\ndata: \(e.body)\n\n" }
                            try await writer.write(ByteBuffer(string: text))
                            quietSince = .now
                        } else {
                            if ContinuousClock.now - quietSince > Self.heartbeat {
                                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                                quietSince = .now
                            }
                            try await Task.sleep(for: Self.idleCheck)
                        }
                    }
                } catch {
                    // The client went away (the write failed) or the server is stopping.
                }
                await hub.detach()
                try? await writer.finish(nil)
            })
        }
    }
}
