import FactorExpr
import FactorPlatform
import FactorPython
import FactorStore
import Foundation
import Hummingbird

/// Factors: catalogue, registration, versions, lifecycle, expression validation.
struct FactorRoutes {
    let services: Services

    struct NewFactor: Decodable {
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

    struct Edit: Decodable {
        var expression: String
        var kind: FactorKind?
        var note: String?
    }

    struct RollbackBody: Decodable { var version: Int }
    struct PythonBody: Decodable { var code: String?; var source: String }
    struct PythonValidation: Encodable {
        var valid: Bool
        var hash: String
        var fields: [String]
        var lookbackRows: Int
        var nanRatio: Double
        var infRatio: Double
        var sampleCells: Int
    }
    struct ExpressionBody: Decodable { var expression: String }

    struct FactorDetail: Encodable {
        var factor: FactorRecord
        var versions: [FactorVersionRecord]
    }

    struct Validation: Encodable {
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
        router.get("/factors", "List factors (filters: category, status, owner, tag)") { request, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let q = request.uri.queryParameters
            var filter = FactorFilter(category: q["category"].map(String.init), owner: q["owner"].map(String.init), tag: q["tag"].map(String.init))
            if let s = q["status"] {
                guard let status = FactorStatus(rawValue: String(s)) else {
                    throw APIError(.badRequest, "status must be one of \(FactorStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.status = status
            }
            return try JSONIO.response(try store.factors(matching: filter))
        }
        router.post("/factors", "Register a factor (validated by a warm-up run); kind python takes Python source as the expression") { request, context in
            let caller = try context.require([.researcher, .reviewer], to: "register factors")
            let body = try await JSONIO.decode(NewFactor.self, from: request, context: context,
                                               allowed: ["code", "expression", "kind", "name", "category", "owner", "tags", "description"])
            if let owner = body.owner, owner != caller.name, caller.role != .admin {
                throw APIError(.forbidden, "a \(caller.role.rawValue) registers factors in their own name (\(caller.name))")
            }
            let draft = FactorDraft(code: body.code, expression: body.expression, kind: body.kind, name: body.name, category: body.category,
                                    owner: body.owner ?? caller.name, tags: body.tags, description: body.description)
            let registry = services.registry, actor = caller.name
            let (factor, version) = try await offloaded { try registry.register(draft, actor: actor) }
            return try JSONIO.response(FactorDetail(factor: factor, versions: [version]), status: .created)
        }
        router.get("/factors/:code", "A factor and its versions") { _, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let code = try context.parameters.require("code")
            guard let factor = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
            return try JSONIO.response(FactorDetail(factor: factor, versions: try store.versions(code: code)))
        }
        router.get("/factors/:code/versions", "A factor's versions") { _, context in
            try context.require([.researcher, .reviewer], to: "read factors")
            let code = try context.parameters.require("code")
            guard try store.factor(code: code) != nil else { throw StoreError.unknownFactor(code) }
            return try JSONIO.response(try store.versions(code: code))
        }
        router.patch("/factors/:code", "New version with a new expression") { request, context in
            let code = try context.parameters.require("code")
            let caller = try owner(of: code, context, to: "edit factors")
            let body = try await JSONIO.decode(Edit.self, from: request, context: context, allowed: ["expression", "kind", "note"])
            let registry = services.registry, actor = caller.name
            return try JSONIO.response(try await offloaded {
                try registry.update(code: code, expression: body.expression, kind: body.kind, note: body.note ?? "", actor: actor)
            })
        }
        router.post("/factors/:code/rollback", "New version equal to an earlier one") { request, context in
            let code = try context.parameters.require("code")
            let caller = try owner(of: code, context, to: "roll back factors")
            let body = try await JSONIO.decode(RollbackBody.self, from: request, context: context, allowed: ["version"])
            return try JSONIO.response(try services.registry.rollback(code: code, to: body.version, actor: caller.name))
        }
        router.post("/factors/:code/submit-review", "Draft → in review") { _, context in
            let code = try context.parameters.require("code")
            let caller = try owner(of: code, context, to: "submit factors for review")
            return try JSONIO.response(try services.registry.lifecycle.submitForReview(code: code, actor: caller.name))
        }
        router.post("/factors/:code/approve", "In review → approved (reviewer)", roles: "reviewer") { _, context in
            let caller = try context.require([.reviewer], to: "approve factors")
            let code = try context.parameters.require("code")
            return try JSONIO.response(try services.registry.lifecycle.approve(code: code, actor: caller.name))
        }
        router.post("/factors/:code/deprecate", "Retire a factor") { _, context in
            let code = try context.parameters.require("code")
            let caller = try context.caller()
            if caller.role != .reviewer { try owner(of: code, context, to: "deprecate factors") }
            return try JSONIO.response(try services.registry.lifecycle.deprecate(code: code, actor: caller.name))
        }
        router.post("/expressions/validate", "Canonical form, fields, operators and look-back of an expression, or the error with its position") { request, context in
            try context.require([.researcher, .reviewer], to: "validate expressions")
            let body = try await JSONIO.decode(ExpressionBody.self, from: request, context: context, allowed: ["expression"])
            let info = try ExpressionInfo(body.expression, checker: Checker(fields: services.fields).forFactors)
            return try JSONIO.response(Validation(valid: true, canonical: info.canonical, hash: info.hash, fields: info.fields,
                                                  operators: info.operators, lookbackRows: info.lookback.rowsBefore,
                                                  lookaheadRows: info.lookback.rowsAfter))
        }

        router.post("/python/validate", "A Python factor's source validated as registration would (compile, fields, warm-up, look-ahead), without storing it: its fields, look-back and warm-up figures, or the error with its line") { request, context in
            try context.require([.researcher, .reviewer], to: "validate Python factors")
            let body = try await JSONIO.decode(PythonBody.self, from: request, context: context, allowed: ["code", "source"])
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
        @Sendable @discardableResult
        func owner(of code: String, _ context: APIContext, to action: String) throws -> TokenRecord {
            let caller = try context.require([.researcher, .reviewer], to: action)
            guard let factor = try store.factor(code: code) else { throw StoreError.unknownFactor(code) }
            if caller.role == .researcher && factor.owner != caller.name {
                throw APIError(.forbidden, "factor \(code) belongs to \(factor.owner); a researcher can \(action) only their own")
            }
            return caller
        }
    }
}
