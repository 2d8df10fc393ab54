import Foundation
import Hummingbird
import StoreContract

/// The organization's CRM sync sources: each with its schedule and last runs, and a button that
/// runs it now. Sources are added with `caller-lookup sync add` or `POST /v3/sync` (docs/sync.md).
extension AdminHandlers {
    @Sendable func syncSources(_ visit: Visit) async throws -> Response {
        try await syncPage(visit, ran: nil, error: nil)
    }

    @Sendable func runSyncSource(_ visit: Visit) async throws -> Response {
        guard let id = visit.context.parameters.get("id", as: Int64.self), id > 0 else {
            return try await syncPage(visit, ran: nil, error: visit.t("No such source.", "Takový zdroj neexistuje."), status: .notFound)
        }
        do {
            let run = try await state.sync.runNow(sourceID: id, organizationID: visit.organization.id)
            return try await syncPage(visit, ran: run, error: nil)
        } catch let busy as SyncBusy {
            return try await syncPage(visit, ran: nil, error: busy.description, status: .conflict)
        } catch let error as ContactStoreError where error.code == .notFound {
            return try await syncPage(visit, ran: nil, error: error.message, status: .notFound)
        }
    }

    private func syncPage(_ visit: Visit, ran: SyncRun?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = visit.t
        var html = "<section><h1>\(t("CRM sync", "Synchronizace s CRM"))</h1>"
        html += "<p>\(t("Sources fetch your CRM's export on their schedule and import it by the upload's rules; a run that fails or would delete too much changes nothing. Add one with caller-lookup sync add or POST /v3/sync.", "Zdroje stahují export z vašeho CRM podle plánu a importují ho podle pravidel nahrání; běh, který selže nebo by smazal příliš mnoho, nic nezmění. Zdroj přidáte příkazem caller-lookup sync add nebo POST /v3/sync."))</p>"
        if let error { html += "<p class=\"error\">\(AdminPage.escape(error))</p>" }
        if let ran {
            let summary = "\(t("Source", "Zdroj")) \(ran.sourceID): \(ran.outcome.rawValue) — \(t("imported", "importováno")) \(ran.imported), \(t("rejected", "odmítnuto")) \(ran.rejected)"
            html += "<p class=\"\(ran.isFailure ? "error" : "ok")\" id=\"run-result\">\(AdminPage.escape(summary))\(ran.message.isEmpty ? "" : ". " + AdminPage.escape(ran.message))</p>"
        }
        html += "</section>"
        let sources = try await state.store.syncSources(organizationID: visit.organization.id)
        if sources.isEmpty { html += "<section><p id=\"no-sources\">\(t("No sources yet.", "Zatím žádné zdroje."))</p></section>" }
        for source in sources {
            let shown = source.definition.redacted
            let schedule = shown.everySeconds.map { t("every", "každých") + " \(Self.duration($0))" } ?? t("by hand only", "jen ručně")
            html += "<section class=\"sync-source\" id=\"source-\(source.id)\"><h2>\(source.id). \(AdminPage.escape(shown.url))</h2>"
            html += "<p>\(shown.format.rawValue), \(shown.mode.rawValue), \(AdminPage.escape(schedule))"
            if !shown.headers.isEmpty { html += "; \(t("headers", "hlavičky")): " + AdminPage.escape(shown.headers.map { "\($0.name): \($0.value)" }.joined(separator: ", ")) }
            html += "</p><form class=\"inline\" method=\"post\" action=\"/admin/sync/\(source.id)/run\">\(AdminPage.csrfField(visit.csrf))<button type=\"submit\" id=\"run-\(source.id)\">\(t("Run now", "Spustit teď"))</button></form>"
            let runs = try await state.store.syncRuns(sourceID: source.id, organizationID: visit.organization.id, limit: 10)
            if runs.isEmpty {
                html += "<p>\(t("It has not run yet.", "Zatím neběžel."))</p>"
            } else {
                html += "<table class=\"runs\"><tr><th>\(t("Started", "Začátek"))</th><th>\(t("Trigger", "Spuštění"))</th><th>\(t("Outcome", "Výsledek"))</th><th>HTTP</th><th>\(t("Imported", "Importováno"))</th><th>\(t("Created", "Nové"))</th><th>\(t("Updated", "Změněné"))</th><th>\(t("Deleted", "Smazané"))</th><th>\(t("Rejected", "Odmítnuté"))</th><th>\(t("Message", "Zpráva"))</th></tr>\n"
                for run in runs {
                    let message = ([run.message] + run.errorLines.prefix(3)).filter { !$0.isEmpty }.joined(separator: "\n")
                    html += "<tr class=\"\(run.isFailure ? "failed" : "ok")\"><td>\(SyncJSON.timestamp(run.started))</td><td>\(run.trigger.rawValue)</td><td>\(run.outcome.rawValue)</td>"
                    html += "<td>\(run.httpStatus.map(String.init) ?? "")</td><td>\(run.imported)</td><td>\(run.created)</td><td>\(run.updated)</td><td>\(run.deleted)</td><td>\(run.rejected)</td>"
                    html += "<td><pre>\(AdminPage.escape(String(message.prefix(2_000))))</pre></td></tr>\n"
                }
                html += "</table>"
            }
            html += "</section>\n"
        }
        return visit.render(t("CRM sync", "Synchronizace s CRM"), html, status: status)
    }

    private static func duration(_ seconds: Int) -> String {
        seconds % 86_400 == 0 ? "\(seconds / 86_400) d" : seconds % 3_600 == 0 ? "\(seconds / 3_600) h" : seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
    }
}
