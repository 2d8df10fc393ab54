import Foundation

/// Secrets kept out of messages and log lines: the password of a URL's user information
/// (`postgres://svc:PASSWORD@db/…`, `http://user:PASSWORD@api…`) and of a `password=` query
/// parameter become `***`, wherever they stand in the text.
public enum Redaction {
    /// `scheme://user:secret@` → `scheme://user:***@`.
    private static let userInformation = try! NSRegularExpression(
        pattern: #"([A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:]*):[^\s/?#@]*@"#)
    /// `password=secret`, `sslpassword=secret` in a query → `password=***`.
    private static let queryPassword = try! NSRegularExpression(
        pattern: #"([?&;](?:ssl)?password=)[^&\s#'"]*"#, options: [.caseInsensitive])

    /// `text` with every password of a URL in it replaced by `***`.
    public static func redacted(_ text: String) -> String {
        guard text.contains("://") || text.lowercased().contains("password=") else { return text }
        var result = text
        for (expression, template) in [(userInformation, "$1:***@"), (queryPassword, "$1***")] {
            let range = NSRange(result.startIndex..., in: result)
            result = expression.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }

    /// A request header's value as shown once stored: its scheme word kept (`Bearer ***`), the
    /// secret never.
    public static func headerValue(_ value: String) -> String {
        let parts = value.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].allSatisfy({ $0.isLetter }) { return "\(parts[0]) ***" }
        return "***"
    }
}
