import Contacts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// The admin pages' frame: one server-rendered HTML document per answer, Czech or English by
/// `Accept-Language` (as the popup), usable from a phone screen up. The only script is the upload
/// page's progress bar and size check, and the only style one inline sheet, both allowed by their
/// hashes in a strict Content-Security-Policy; every value is HTML-escaped and only `http(s)`
/// values become links (`PopupPage.linked`).
struct AdminPage {
    let language: PopupLanguage

    init(_ request: Request) { language = PopupLanguage.preferred(request.headers[.acceptLanguage]) }

    /// The English text, or the Czech one.
    func t(_ english: String, _ czech: String) -> String { language == .czech ? czech : english }

    static let style = """
        *{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f5f7;color:#1d2329}\
        header{background:#1d3b5c;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}\
        header a,header button{color:#fff;text-decoration:none;background:none;border:0;font:inherit;cursor:pointer;padding:.2rem 0}\
        header .org{font-weight:700;margin-right:auto}header form{margin:0}\
        main{max-width:60rem;margin:0 auto;padding:1rem}\
        section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1rem 1.2rem;margin:0 0 1rem;overflow-x:auto}\
        h1{font-size:1.4rem;margin:0 0 .8rem}h2{font-size:1.1rem;margin:0 0 .6rem}\
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem .35rem 0;border-bottom:1px solid #e4e8ec;vertical-align:top;word-break:break-word}\
        th{font-weight:600;color:#56606b}a{color:#0b5cad}\
        label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select{font:inherit;padding:.4rem .5rem;border:1px solid #b9c2cc;border-radius:6px;width:100%;max-width:28rem}\
        input[type=checkbox]{width:auto}button,.button{font:inherit;background:#0b5cad;color:#fff;border:0;border-radius:6px;padding:.45rem .9rem;cursor:pointer;margin:.6rem .4rem 0 0;display:inline-block;text-decoration:none}\
        button.secondary,.button.secondary{background:#56606b}button.danger{background:#b3261e}\
        .error{color:#b3261e;font-weight:600}.field-error{color:#b3261e;font-size:.9rem;margin:.2rem 0 0}.ok{color:#1e7b34;font-weight:600}\
        .counts{display:flex;flex-wrap:wrap;gap:.6rem}.counts div{background:#eef3f8;border-radius:8px;padding:.5rem .8rem;min-width:7rem}.counts b{display:block;font-size:1.3rem}\
        .drop{border:2px dashed #8fa3b8;border-radius:10px;padding:1.2rem;text-align:center;background:#f8fafc}\
        progress{width:100%;height:1.2rem;margin:.6rem 0}.muted{color:#56606b;font-size:.9rem}.secret{font-family:monospace;background:#fff6d6;padding:.4rem;word-break:break-all}\
        .inline{display:inline}.inline input,.inline select{width:auto}
        """

    /// The upload page's script: checks the size before sending, shows the upload's progress, then
    /// shows the report the server answered (without it the form posts as usual).
    static let script = """
        (function(){var f=document.getElementById('upload');if(!f)return;var limit=+f.dataset.limit;\
        f.addEventListener('submit',function(e){var file=f.elements.file.files[0];var msg=document.getElementById('upload-message');\
        if(!file){return;}if(file.size>limit){e.preventDefault();msg.textContent=f.dataset.toolarge;return;}\
        e.preventDefault();var data=new FormData(f);if(e.submitter&&e.submitter.name){data.append(e.submitter.name,e.submitter.value);}\
        var bar=document.getElementById('upload-progress');bar.hidden=false;bar.value=0;\
        var x=new XMLHttpRequest();x.open('POST',f.action);x.upload.onprogress=function(p){if(p.lengthComputable){bar.value=p.loaded/p.total;}};\
        x.onload=function(){document.open();document.write(x.responseText);document.close();};\
        x.onerror=function(){msg.textContent=f.dataset.failed;bar.hidden=true;};x.send(data);});})();
        """

    static func sha256Source(_ text: String) -> String { Crypto.contentSecuritySource(text) }

    static let contentSecurityPolicy =
        "default-src 'none'; style-src \(sha256Source(style)); script-src \(sha256Source(script)); connect-src 'self'; "
        + "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static func escape(_ text: String) -> String { MarkupText.escaped(text) }

    /// A whole page: the header with the organization and the sections the user's role may open.
    func document(title: String, session: AdminSession?, csrf: String, body: String) -> String {
        var html = """
            <!doctype html><html lang="\(language.code)"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width,initial-scale=1">\
            <title>\(Self.escape(title)) · caller-lookup</title><style>\(Self.style)</style></head><body>

            """
        if let session {
            html += "<header><span class=\"org\">\(Self.escape(session.organization.name))</span>"
            html += "<a href=\"/admin/contacts\">\(t("Contacts", "Kontakty"))</a>"
            if session.role >= .admin {
                html += "<a href=\"/admin/upload\">\(t("Upload", "Nahrát CSV"))</a><a href=\"/admin/labels\">\(t("Labels", "Popisky"))</a>"
                html += "<a href=\"/admin/tokens\">\(t("Tokens", "Tokeny"))</a><a href=\"/admin/users\">\(t("Users", "Uživatelé"))</a><a href=\"/admin/sync\">\(t("CRM sync", "Synchronizace s CRM"))</a>"
            }
            html += "<form method=\"post\" action=\"/admin/logout\">\(Self.csrfField(csrf))"
            html += "<button type=\"submit\" id=\"sign-out\">\(t("Sign out", "Odhlásit")) (\(Self.escape(session.account.login)))</button></form></header>\n"
        }
        html += "<main>\n\(body)</main>"
        if body.contains("id=\"upload\"") { html += "<script>\(Self.script)</script>" }
        return html + "</body></html>\n"
    }

    static func csrfField(_ csrf: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf))\">" }

    /// The answer, with the pages' security headers and any cookies.
    static func response(_ status: HTTPResponse.Status, _ html: String, cookies: [String] = [], language: PopupLanguage) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        secure(&response)
        response.headers[.contentLanguage] = language.code
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    /// `303 See Other` to `location` (after a form, or to the sign-in page).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        secure(&response)
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    static func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        response.headers[.vary] = "Accept-Language, Cookie"
    }

    /// The label of a field: the organization's name for it, else the contract's.
    func fieldName(_ field: ContactField, labels: [ContactField: String]) -> String {
        labels[field] ?? (ContactField.customFields.contains(field) ? language.fieldName(field) : field.rawValue)
    }
}

/// An `application/x-www-form-urlencoded` body: `+` is a space, `%XX` a byte; a name given twice
/// keeps its first value.
enum FormBody {
    static func parse(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: ArraySlice<UInt8>) -> String {
                let spaced = String(decoding: part.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                return PercentEncoding.decoded(spaced) ?? spaced
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}
