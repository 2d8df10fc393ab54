import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// The CSV upload page: the form, the dry run, the report and its rejected rows.
extension AdminHandlers {
    @Sendable func uploadForm(_ visit: Visit) async throws -> Response {
        visit.render(visit.t("Upload contacts", "Nahrát kontakty"), uploadFormHTML(visit))
    }

    fileprivate func uploadFormHTML(_ visit: Visit) -> String {
        let t = visit.t, limit = state.configuration.uploadLimit
        return """
            <section><h1>\(t("Upload contacts (CSV)", "Nahrát kontakty (CSV)"))</h1>\
            <p>\(t("The file replaces all of the organization's contacts. Columns separated by ';', the first line names them. At most \(limit >> 20) MB.", "Soubor nahradí všechny kontakty organizace. Sloupce oddělené středníkem, první řádek je pojmenuje. Nejvýše \(limit >> 20) MB."))</p>\
            <form id="upload" method="post" action="/admin/upload" enctype="multipart/form-data" data-limit="\(limit)" \
            data-toolarge="\(AdminPage.escape(t("The file is larger than \(limit >> 20) MB; split it or remove unused columns.", "Soubor je větší než \(limit >> 20) MB; rozdělte ho nebo odstraňte nepoužité sloupce.")))" \
            data-failed="\(AdminPage.escape(t("The upload failed; check the connection and try again.", "Nahrání selhalo; zkontrolujte připojení a zkuste to znovu.")))">\
            \(AdminPage.csrfField(visit.csrf))<div class="drop"><label for="file">\(t("Choose or drop a CSV file", "Vyberte nebo přetáhněte soubor CSV"))</label>\
            <input id="file" name="file" type="file" accept=".csv,text/csv" required></div>\
            <progress id="upload-progress" max="1" value="0" hidden></progress><p id="upload-message" class="error"></p>\
            <button type="submit" id="upload-button">\(t("Upload and replace", "Nahrát a nahradit"))</button>\
            <button type="submit" class="secondary" id="dry-run" name="dryRun" value="true">\(t("Dry run (check only)", "Zkušební běh (jen kontrola)"))</button>\
            </form></section>

            """
    }

    /// The upload form's post: the file (and `dryRun`) from the multipart body, checked against
    /// the session's CSRF token, imported as the API imports, and the report as a page.
    @Sendable func upload(_ visit: Visit) async throws -> Response {
        let upload = Upload(state: state, logger: visit.context.logger)
        let file: [UInt8], fields: [String: String]
        switch await upload.form(of: visit.request, fields: ["csrf", "dryRun"]) {
        case .failure(let refusal):
            return uploadRefused(visit, refusal)
        case .success(let form):
            (file, fields) = form
        }
        guard await sessions.checkCSRF(fields["csrf"], visit.session) else {
            return Self.csrfRefused(visit.page, session: visit.session, csrf: visit.csrf)
        }
        let dryRun = fields["dryRun"] == "true"
        switch await upload.run(file, organization: visit.organization, dryRun: dryRun) {
        case .imported(let report): return visit.render(visit.t("Upload report", "Výsledek nahrání"), reportHTML(visit, report))
        case .refused(let refusal): return uploadRefused(visit, refusal)
        }
    }

    fileprivate func uploadRefused(_ visit: Visit, _ refusal: Upload.Refusal) -> Response {
        let t = visit.t
        var html = "<section><h1>\(t("The file was rejected", "Soubor byl odmítnut"))</h1><p class=\"error\" id=\"upload-error\">\(AdminPage.escape(refusal.rejection.message))</p>"
        html += rejectedTable(visit, refusal.rejection.rejected) + "<p class=\"ok\">\(t("Nothing was changed.", "Nic se nezměnilo."))</p></section>\n"
        var response = visit.render(t("The file was rejected", "Soubor byl odmítnut"), html + uploadFormHTML(visit), status: refusal.status)
        if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    fileprivate func reportHTML(_ visit: Visit, _ report: ImportReport) -> String {
        let t = visit.t
        var html = "<section><h1 id=\"report-title\">\(report.dryRun ? t("Dry run: nothing was changed", "Zkušební běh: nic se nezměnilo") : t("Contacts uploaded", "Kontakty nahrány"))</h1><div class=\"counts\" id=\"counts\">"
        let counts: [(String, String, Int)] = [
            ("imported", t("imported", "importováno"), report.imported), ("rejected", t("rejected", "odmítnuto"), report.rejected.count),
            ("created", t("created", "vytvořeno"), report.created), ("updated", t("updated", "změněno"), report.updated),
            ("deleted", t("deleted", "smazáno"), report.deleted), ("unchanged", t("unchanged", "beze změny"), report.unchanged),
        ]
        for (key, label, value) in counts { html += "<div data-count=\"\(key)\"><b>\(value)</b>\(label)</div>" }
        html += "</div>"
        if report.dryRun { html += "<p class=\"ok\">\(t("This was a dry run: the counts say what the upload would do.", "Šlo o zkušební běh: čísla říkají, co by nahrání udělalo."))</p>" }
        return html + rejectedTable(visit, report.rejected) + "</section>\n" + uploadFormHTML(visit)
    }

    /// The rejected rows (line, column, value, message) and a link that downloads them as CSV.
    fileprivate func rejectedTable(_ visit: Visit, _ rejected: RejectedRowList) -> String {
        guard !rejected.listed.isEmpty else { return "" }
        let t = visit.t
        var html = "<h2>\(t("Rejected rows", "Odmítnuté řádky"))</h2><table id=\"rejected\"><tr><th>\(t("Line", "Řádek"))</th><th>\(t("Column", "Sloupec"))</th><th>\(t("Value", "Hodnota"))</th><th>\(t("Problem", "Problém"))</th></tr>\n"
        var csv = "line;column;value;message\r\n"
        // Opened in a spreadsheet: a value such as `=HYPERLINK(…)` must stay text.
        func cell(_ text: String) -> String { CSVCell.quoted(text, neutralizingFormulas: true) }
        for row in rejected.listed {
            for violation in row.violations {
                let column = violation.field?.rawValue ?? ""
                html += "<tr><td>\(row.line)</td><td>\(AdminPage.escape(column))</td><td>\(AdminPage.escape(String(violation.value.prefix(100))))</td><td>\(AdminPage.escape(violation.message))</td></tr>\n"
                csv += "\(row.line);\(cell(column));\(cell(violation.value));\(cell(violation.message))\r\n"
            }
        }
        html += "</table>"
        if rejected.count > rejected.listed.count {
            html += "<p class=\"muted\">\(t("\(rejected.count - rejected.listed.count) more rejected rows are not listed.", "Dalších \(rejected.count - rejected.listed.count) odmítnutých řádků není vypsáno."))</p>"
        }
        let href = "data:text/csv;charset=utf-8," + PercentEncoding.encoded(csv)
        return html + "<a class=\"button secondary\" id=\"download-errors\" download=\"rejected-rows.csv\" href=\"\(AdminPage.escape(href))\">\(t("Download as CSV", "Stáhnout jako CSV"))</a>"
    }
}
