import CoreMetrics
import PhoneNumbers
import LookupIndex
import Prometheus
import StoreContract
import Synchronization

/// The service's metrics through swift-metrics, kept in this server's own Prometheus registries
/// (no global bootstrap, so in-process tests can run several servers) and served at `/metrics`.
///
/// Two registries: the service's totals, which anyone may read, and the per-organization series
/// (`caller_lookup_organization_*{organization=…}`), which name tenants and are shown only with
/// the configured metrics token.
final class ServiceMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let tenantRegistry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let tenantFactory: PrometheusMetricsFactory
    /// Organization → its index's contacts and bytes, for the totals.
    private let indexes = Mutex<[String: (contacts: Int, bytes: Int)]>([:])
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
        tenantFactory = PrometheusMetricsFactory(registry: tenantRegistry)
        var lookups: [MatchKind: CoreMetrics.Counter] = [:]
        for kind in [MatchKind.exact, .suffix, .none] {
            lookups[kind] = CoreMetrics.Counter(label: "caller_lookup_lookups_total", dimensions: [("match", kind.rawValue)], factory: factory)
        }
        self.lookups = lookups
        lookupDuration = CoreMetrics.Timer(label: "caller_lookup_lookup_duration_seconds", factory: factory)
        // Which numbering metadata this process judges numbers by.
        let plan = NumberPlanFile.current
        CoreMetrics.Gauge(label: "caller_lookup_number_plan_info", dimensions: [("version", plan.version), ("fingerprint", plan.fingerprint)], factory: factory)
            .record(1)
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

    /// A sync run: the totals by outcome; per source (with the tenants' series) the last
    /// success's time and the failures.
    func syncRun(source: SyncSource, run: SyncRun) {
        CoreMetrics.Counter(label: "caller_lookup_sync_runs_total", dimensions: [("outcome", run.outcome.rawValue)], factory: factory).increment()
        let dimensions = [("source", String(source.id)), ("organization", String(source.organizationID))]
        if run.isFailure {
            CoreMetrics.Counter(label: "caller_lookup_sync_failures_total", dimensions: dimensions, factory: tenantFactory).increment()
        } else {
            CoreMetrics.Gauge(label: "caller_lookup_sync_last_success_timestamp_seconds", dimensions: dimensions, factory: tenantFactory)
                .record(run.finished)
        }
    }

    /// The version, contact count and byte size of an organization's index; the totals over every
    /// organization.
    func index(organization: String, snapshot: IndexSnapshot) {
        let dimensions = [("organization", organization)]
        Gauge(label: "caller_lookup_organization_index_version", dimensions: dimensions, factory: tenantFactory).record(snapshot.version)
        Gauge(label: "caller_lookup_organization_index_contacts", dimensions: dimensions, factory: tenantFactory).record(snapshot.count)
        Gauge(label: "caller_lookup_organization_index_bytes", dimensions: dimensions, factory: tenantFactory).record(snapshot.byteSize)
        let totals = indexes.withLock { indexes in
            indexes[organization] = (snapshot.count, snapshot.byteSize)
            return indexes.values.reduce(into: (organizations: 0, contacts: 0, bytes: 0)) {
                $0.organizations += 1
                $0.contacts += $1.contacts
                $0.bytes += $1.bytes
            }
        }
        Gauge(label: "caller_lookup_organizations", factory: factory).record(totals.organizations)
        Gauge(label: "caller_lookup_index_contacts", factory: factory).record(totals.contacts)
        Gauge(label: "caller_lookup_index_bytes", factory: factory).record(totals.bytes)
    }

    /// The Prometheus text exposition: the totals, and the per-organization series when
    /// `tenants` (the request showed the metrics token).
    func exposition(tenants: Bool) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        if tenants { tenantRegistry.emit(into: &buffer) }
        return buffer
    }
}
