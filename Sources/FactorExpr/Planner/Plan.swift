/// A batch of expressions compiled into one DAG in which equal sub-expressions (same canonical text) are one
/// node, computed once. Nodes are in dependency order.
public struct Plan: Sendable {
    /// One computation of the plan.
    public struct Node: Sendable {
        public enum Kind: Sendable {
            case field(String)
            case constant(Double)
            case operation(Operation)
            /// `ChangeInstrument`: the inner expression as its own plan, run on the other instrument.
            case otherInstrument(String, Plan)
            /// `P(x)`: x as its own plan over reported periods (its fields are the point-in-time ones, `$roe_q`).
            case pointInTime(Plan)
            /// `PRef($$roe_q, 201803)`: one period of one point-in-time field (named without the `$`).
            case periodReference(String, Int)
        }

        public var kind: Kind
        public var inputs: [Int]
        public var canonical: String
        /// Index of the last node that reads this one (or `Int.max` for outputs): when to free it.
        public var lastUse: Int
        /// Index of the last node that reads this one, outputs or not (−1: none does).
        public var lastRead: Int = -1
    }

    public var nodes: [Node]
    /// Output names and the node each reads, in the order given.
    public var outputs: [(name: String, node: Int)]
    /// The look-back covering every output.
    public var lookback: Lookback
    /// Fields the plan reads (lower case).
    public var fields: [String]
    /// Instruments named by `ChangeInstrument`.
    public var auxiliaryInstruments: [String]
    /// Categorical fields the group operators read (`industry`, `sector`).
    public var categories: [String] = []
    /// Point-in-time fields `P` and `PRef` read (`roe_q`, without the `$$`).
    public var periodFields: [String] = []
    /// True when some node is cross-sectional (needs the whole universe at once).
    public var usesCrossSection: Bool

    /// Number of operation nodes (after sharing).
    public var operationCount: Int { nodes.filter { if case .field = $0.kind { return false }; if case .constant = $0.kind { return false }; return true }.count }

    /// Compiles named, checked expressions.
    public static func compile(_ named: [(name: String, expr: Expr)]) -> Plan {
        var builder = Builder()
        var outputs: [(String, Int)] = []
        var lookbacks: [Lookback] = []
        for (name, expr) in named {
            let normalized = CanonicalForm.normalize(expr)
            outputs.append((name, builder.add(normalized)))
            lookbacks.append(Lookback.of(normalized))
        }
        var nodes = builder.nodes
        for (i, node) in nodes.enumerated() {
            for input in node.inputs { nodes[input].lastUse = max(nodes[input].lastUse, i) }
        }
        for k in nodes.indices { nodes[k].lastRead = nodes[k].lastUse }
        for (_, n) in outputs { nodes[n].lastUse = Int.max }
        return Plan(nodes: nodes, outputs: outputs, lookback: Lookback.combine(lookbacks),
                    fields: builder.fields.sorted(), auxiliaryInstruments: builder.instruments.sorted(),
                    categories: builder.categories.sorted(), periodFields: builder.periodFields.sorted(),
                    usesCrossSection: builder.crossSection)
    }

    private struct Builder {
        var nodes: [Node] = []
        var index: [String: Int] = [:]
        var fields = Set<String>()
        var instruments = Set<String>()
        var categories = Set<String>()
        var periodFields = Set<String>()
        var crossSection = false

        mutating func add(_ expr: Expr) -> Int {
            let key = CanonicalForm.text(expr)
            if let existing = index[key] { return existing }
            let node: Node
            switch expr {
            case .field(let f):
                fields.insert(f)
                node = Node(kind: .field(f), inputs: [], canonical: key, lastUse: -1)
            case .constant(let v):
                node = Node(kind: .constant(v), inputs: [], canonical: key, lastUse: -1)
            case .apply(.changeInstrument(let code), let args):
                let inner = Plan.compile([("value", args[0])])
                instruments.insert(code)
                instruments.formUnion(inner.auxiliaryInstruments)
                fields.formUnion(inner.fields)
                node = Node(kind: .otherInstrument(code, inner), inputs: [], canonical: key, lastUse: -1)
            case .apply(.pointInTime, let args):
                let inner = Plan.compile([("value", args[0])])
                periodFields.formUnion(inner.fields.map { String($0.dropFirst()) })
                node = Node(kind: .pointInTime(inner), inputs: [], canonical: key, lastUse: -1)
            case .apply(.periodRef(let period), let args):
                guard case .field(let f) = args[0] else { preconditionFailure("PRef reads a field (the checker ensures it)") }
                periodFields.insert(String(f.dropFirst()))
                node = Node(kind: .periodReference(String(f.dropFirst()), period), inputs: [], canonical: key, lastUse: -1)
            case .apply(let op, let args):
                if op.isCrossSectional { crossSection = true }
                if case .group(_, let category) = op { categories.insert(category) }
                let inputs = args.map { add($0) }
                node = Node(kind: .operation(op), inputs: inputs, canonical: key, lastUse: -1)
            }
            nodes.append(node)
            index[key] = nodes.count - 1
            return nodes.count - 1
        }
    }
}
