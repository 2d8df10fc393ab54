import CoreMetrics
import LookupIndex
import Prometheus

/// The service's metrics through swift-metrics, kept in this server's own Prometheus registry
/// (no global bootstrap, so in-process tests can run several servers) and served at `/metrics`.
final class ServiceMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let lookups: [MatchKind: CoreMetrics.Counter]
    private let lookupDuration: CoreMetrics.Timer

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let microsecond = Duration.microseconds(1)
        factory.durationHistogramBuckets["caller_lookup_lookup_duration_seconds"] = [
            microsecond * 1, microsecond * 2, microsecond * 5, microsecond * 10, microsecond * 20, microsecond * 50,
            microsecond * 100, microsecond * 1_000, microsecond * 10_000, microsecond * 100_000,
        ]
        self.factory = factory
        var lookups: [MatchKind: CoreMetrics.Counter] = [:]
        for kind in [MatchKind.exact, .suffix, .none] {
            lookups[kind] = CoreMetrics.Counter(label: "caller_lookup_lookups_total", dimensions: [("match", kind.rawValue)], factory: factory)
        }
        self.lookups = lookups
        lookupDuration = CoreMetrics.Timer(label: "caller_lookup_lookup_duration_seconds", factory: factory)
    }

    /// One lookup by number or email, with how it matched and how long it took.
    func lookup(_ match: MatchKind, nanoseconds: Int64) {
        lookups[match]?.increment()
        lookupDuration.recordNanoseconds(nanoseconds)
    }

    /// One upload and its rows, by outcome (`uploaded`, `rejected`, `too_large`, `not_multipart`).
    func upload(_ outcome: String, imported: Int = 0, rejectedRows: Int = 0) {
        CoreMetrics.Counter(label: "caller_lookup_uploads_total", dimensions: [("outcome", outcome)], factory: factory).increment()
        if imported > 0 {
            CoreMetrics.Counter(label: "caller_lookup_upload_rows_total", dimensions: [("outcome", "imported")], factory: factory)
                .increment(by: imported)
        }
        if rejectedRows > 0 {
            CoreMetrics.Counter(label: "caller_lookup_upload_rows_total", dimensions: [("outcome", "rejected")], factory: factory)
                .increment(by: rejectedRows)
        }
    }

    /// The version, contact count and byte size of an organization's index.
    func index(organization: String, snapshot: IndexSnapshot) {
        let dimensions = [("organization", organization)]
        Gauge(label: "caller_lookup_index_version", dimensions: dimensions, factory: factory).record(snapshot.version)
        Gauge(label: "caller_lookup_index_contacts", dimensions: dimensions, factory: factory).record(snapshot.count)
        Gauge(label: "caller_lookup_index_bytes", dimensions: dimensions, factory: factory).record(snapshot.byteSize)
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
