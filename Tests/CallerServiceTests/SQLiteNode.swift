import CallerService
import Hummingbird
import Logging
import SQLiteEngine
import StoreContract

// The service knows only the store contract; these tests run it on the SQLite engine.

extension CallerNode {
    init(configuration: ServiceConfiguration, store: SQLiteStore) {
        self.init(configuration: configuration, store: SQLiteRecordStore(store))
    }
}

func buildApplication(configuration: ServiceConfiguration, store: SQLiteStore, logger: Logger? = nil) -> some ApplicationProtocol {
    buildApplication(configuration: configuration, store: SQLiteRecordStore(store), logger: logger)
}
