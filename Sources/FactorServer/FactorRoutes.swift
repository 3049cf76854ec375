import FactorExpr
import FactorPlatform
import FactorPython
import FactorStore
import Foundation
import Hummingbird

/// Factors: catalogue, registration, versions, lifecycle, expression validation.
struct FactorRoutes {
    let services: Services

    struct NewFactor: Codable {
        var code: String
        /// The expression, or the Python source when kind is python.
        var expression: String
        var kind: FactorKind?
        var name: String?
        var category: String?
        var owner: String?
        var tags: [String]?
        var description: String?
    }

    struct Edit: Codable {
        var expression: String
        var kind: FactorKind?
        var note: String?
    }

    struct RollbackBody: Codable { var version: Int }
    struct PythonBody: Codable { var code: String?; var source: String }
    struct PythonValidation: Codable {
        var valid: Bool
        var hash: String
        var fields: [String]
        var lookbackRows: Int
        var nanRatio: Double
        var infRatio: Double
        var sampleCells: Int
    }
    struct ExpressionBody: Codable { var expression: String }

    struct FactorDetail: Codable {
        var factor: FactorRecord
        var versions: [FactorVersionRecord]
    }

    struct Validation: Codable {
        var valid: Bool
        var canonical: String
        var hash: String
        var fields: [String]
        var operators: [String]
        var lookbackRows: Int?
        var lookaheadRows: Int
    }

    func register(on router: APIRouter) {
        let store = services.store
        router.list("/factors", "List factors by code (filters: category, status, owner, tag)", of: FactorRecord.self,
                    query: [.string("category", "only this category"), .choice("status", FactorStatus.allCases.map(\.rawValue), "only factors in this state"),
                            .string("owner", "only this owner's"), .string("tag", "only factors with this tag")],
                    cursorKey: \.code) { request, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let q = request.uri.queryParameters
            var filter = FactorFilter(category: q["category"].map(String.init), owner: q["owner"].map(String.init), tag: q["tag"].map(String.init))
            filter.status = q["status"].flatMap { FactorStatus(rawValue: String($0)) }
            return try store.factors(matching: filter)
        }
        router.post("/factors", "Register a factor (validated by a warm-up run); kind python takes Python source as the expression",
                    body: NewFactor.self,
                    example: #"{"code": "MOM5", "expression": "Ref($close, 5) / $close - 1", "name": "5-day reversal", "category": "momentum", "tags": ["price"]}"#,
                    errors: [409, 422], replies: [.created(FactorDetail.self, "The factor and its first version", headers: FactorETag.header)]) { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "register factors")
            let body = try await JSONIO.decode(NewFactor.self, from: request, context: context)
            if let owner = body.owner, owner != caller.name, caller.role != .admin {
                throw APIError(.forbidden, "a \(caller.role.rawValue) registers factors in their own name (\(caller.name))")
            }
            let draft = FactorDraft(code: body.code, expression: body.expression, kind: body.kind, name: body.name, category: body.category,
                                    owner: body.owner ?? caller.name, tags: body.tags, description: body.description)
            let registry = services.registry, actor = caller.name
            let (factor, version) = try await offloaded { try registry.register(draft, actor: actor) }
            return FactorETag.tagged(try JSONIO.response(FactorDetail(factor: factor, versions: [version]), status: .created), factor)
        }
        router.get("/factors/:code", "A factor and its versions, with its ETag (If-None-Match answers 304 when it has not changed)",
                   headers: [FactorETag.ifNoneMatch],
                   replies: [.ok(FactorDetail.self, headers: FactorETag.header), Reply(status: 304, content: .none, help: "Not modified since that ETag")]) { request, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let code = try context.parameters.require("code")
            guard let factor = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
            if FactorETag.matches(request.headers[.ifNoneMatch], factor) {
                return Response(status: .notModified, headers: [.eTag: FactorETag.of(factor)])
            }
            return FactorETag.tagged(try JSONIO.response(FactorDetail(factor: factor, versions: try store.versions(code: code))), factor)
        }
        router.list("/factors/:code/versions", "A factor's versions, oldest first", of: FactorVersionRecord.self, cursorKey: { String($0.version) }) { _, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let code = try context.parameters.require("code")
            guard try store.factor(code: code) != nil else { throw StoreError.unknownFactor(code) }
            return try store.versions(code: code)
        }
        router.patch("/factors/:code", "New version with a new expression (If-Match: the ETag it was read with)", headers: [FactorETag.ifMatch],
                     body: Edit.self, example: #"{"expression": "Ref($close, 10) / $close - 1", "note": "a longer window"}"#,
                     errors: [409, 412, 422], replies: [.ok(FactorRecord.self, "The factor with its new latest version", headers: FactorETag.header)]) { request, context in
            let code = try context.parameters.require("code")
            let (caller, factor) = try owner(of: code, context, to: "edit factors")
            try FactorETag.require(request, factor)
            let body = try await JSONIO.decode(Edit.self, from: request, context: context)
            let registry = services.registry, actor = caller.name
            let updated = try await offloaded {
                try registry.update(code: code, expression: body.expression, kind: body.kind, note: body.note ?? "", actor: actor,
                                    expectedVersion: factor.latestVersion)
            }
            return FactorETag.tagged(try JSONIO.response(updated), updated)
        }
        router.post("/factors/:code/rollback", "New version equal to an earlier one (If-Match: the ETag it was read with)", headers: [FactorETag.ifMatch],
                    body: RollbackBody.self, example: #"{"version": 1}"#, errors: [412],
                    replies: [.ok(FactorRecord.self, headers: FactorETag.header)]) { request, context in
            let code = try context.parameters.require("code")
            let (caller, factor) = try owner(of: code, context, to: "roll back factors")
            try FactorETag.require(request, factor)
            let body = try await JSONIO.decode(RollbackBody.self, from: request, context: context)
            let updated = try services.registry.rollback(code: code, to: body.version, actor: caller.name, expectedVersion: factor.latestVersion)
            return FactorETag.tagged(try JSONIO.response(updated), updated)
        }
        router.post("/factors/:code/submit-review", "Draft → in review", headers: [FactorETag.ifMatch], errors: [412],
                    replies: [.ok(FactorRecord.self, headers: FactorETag.header)]) { request, context in
            let code = try context.parameters.require("code")
            let (caller, factor) = try owner(of: code, context, to: "submit factors for review")
            try FactorETag.require(request, factor)
            let moved = try services.registry.lifecycle.submitForReview(code: code, actor: caller.name)
            return FactorETag.tagged(try JSONIO.response(moved), moved)
        }
        router.post("/factors/:code/approve", "In review → approved, by a reviewer who is neither the factor's owner nor its last version's author (four eyes)",
                    roles: "reviewer", headers: [FactorETag.ifMatch], errors: [412],
                    replies: [.ok(FactorRecord.self, headers: FactorETag.header)]) { request, context in
            let caller = try context.require([.reviewer], to: "approve factors")
            let code = try context.parameters.require("code")
            guard let factor = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
            try FactorETag.require(request, factor)
            // With If-Match, the approval is of the version read: a newer one landing meanwhile refuses it (409).
            let moved = try services.registry.lifecycle.approve(code: code, actor: caller.name,
                                                                 expectedVersion: request.headers[.ifMatch] == nil ? nil : factor.latestVersion)
            return FactorETag.tagged(try JSONIO.response(moved), moved)
        }
        router.post("/factors/:code/deprecate", "Retire a factor", headers: [FactorETag.ifMatch], errors: [412],
                    replies: [.ok(FactorRecord.self, headers: FactorETag.header)]) { request, context in
            let code = try context.parameters.require("code")
            let caller = try context.caller()
            let factor: FactorRecord
            if caller.role != .reviewer { factor = try owner(of: code, context, to: "deprecate factors").factor } else {
                guard let found = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
                factor = found
            }
            try FactorETag.require(request, factor)
            let moved = try services.registry.lifecycle.deprecate(code: code, actor: caller.name)
            return FactorETag.tagged(try JSONIO.response(moved), moved)
        }
        router.post("/expressions/validate", "Canonical form, fields, operators and look-back of an expression, or the error with its position",
                    body: ExpressionBody.self, example: #"{"expression": "Mean($close, 5) / $close"}"#,
                    replies: [.ok(Validation.self)]) { request, context in
            try context.require([.researcher, .reviewer], to: "validate expressions")
            let body = try await JSONIO.decode(ExpressionBody.self, from: request, context: context)
            let info = try ExpressionInfo(body.expression, checker: Checker(fields: services.fields).forFactors)
            return try JSONIO.response(Validation(valid: true, canonical: info.canonical, hash: info.hash, fields: info.fields,
                                                  operators: info.operators, lookbackRows: info.lookback.rowsBefore,
                                                  lookaheadRows: info.lookback.rowsAfter))
        }

        router.post("/python/validate", "A Python factor's source validated as registration would (compile, fields, warm-up, look-ahead), without storing it: its fields, look-back and warm-up figures, or the error with its line",
                    body: PythonBody.self, example: #"{"code": "PYMOM", "source": "FIELDS = ['close']\nLOOKBACK = 5\n\ndef compute(frame):\n    return frame['close'].pct_change(5)\n"}"#,
                    errors: [403], replies: [.ok(PythonValidation.self)]) { request, context in
            try context.require([.researcher, .reviewer], to: "validate Python factors")
            let body = try await JSONIO.decode(PythonBody.self, from: request, context: context)
            let code = body.code.flatMap { $0.isEmpty ? nil : $0 } ?? "FACTOR"
            let validator = services.registry.validator, source = body.source
            let (validation, declaration) = try await offloaded { () throws -> (ExpressionValidator.Validation, PythonFactorRunner.Declaration) in
                let validation = try validator.validatePython(code: code, source: source)
                do throws(PythonFailure) { return (validation, try validator.python.check(source: source, filename: "\(code).py")) } catch {
                    throw APIError(.unprocessableContent, error.description)
                }
            }
            return try JSONIO.response(PythonValidation(valid: true, hash: validation.hash, fields: declaration.fields, lookbackRows: declaration.lookback,
                                                        nanRatio: validation.nanRatio, infRatio: validation.infRatio, sampleCells: validation.cells))
        }

        /// Researchers act on their own factors; reviewers and admins on any.
        @Sendable
        func owner(of code: String, _ context: APIContext, to action: String) throws -> (caller: TokenRecord, factor: FactorRecord) {
            let caller = try context.require([.researcher, .reviewer], to: action)
            guard let factor = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
            if caller.role == .researcher && factor.owner != caller.name {
                throw APIError(.forbidden, "factor \(code) belongs to \(factor.owner); a researcher can \(action) only their own")
            }
            return (caller, factor)
        }
    }
}
