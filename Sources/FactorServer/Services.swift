import FactorPlatform
import FactorStore

/// What the routes call: the store (registry, queue, results, tokens) and the registry with its validator.
public struct Services: Sendable {
    public let store: any PlatformStore
    public let registry: FactorRegistry
    public let tokens: TokenService
    /// Fields of the configured data, for expression validation.
    public let fields: Set<String>?
    /// The data directory jobs read by default.
    public let dataDirectory: String
    public let sourceKind: String
    /// The live stream's reader of the event log, shared by every client of this server.
    public let events: EventHub

    public init(store: any PlatformStore, validator: ExpressionValidator, fields: Set<String>?, dataDirectory: String, sourceKind: String) {
        self.store = store
        registry = FactorRegistry(store: store, validator: validator)
        tokens = TokenService(store: store)
        self.fields = fields
        self.dataDirectory = dataDirectory
        self.sourceKind = sourceKind
        events = EventHub(store: store)
    }
}
