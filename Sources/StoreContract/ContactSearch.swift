/// The contact search of the admin pages, the same on every engine: a `LIKE` pattern over the
/// names, organization and email, or the text itself as an exact `externalId`.
package enum ContactSearch {
    /// The condition, with `like` the operator (`LIKE`, PostgreSQL's `ILIKE`) and `pattern` and
    /// `text` the parameters' placeholders.
    package static func condition(_ like: String, pattern p: String, text t: String) -> String {
        let fields = [#""firstName""#, #""lastName""#, #"("firstName" || ' ' || "lastName")"#, #"("lastName" || ' ' || "firstName")"#,
                      #""organization""#, #""email""#]
        return fields.map { "\($0) \(like) \(p) ESCAPE '\\'" }.joined(separator: " OR ") + #" OR ("externalId" = \#(t) AND "externalId" <> '')"#
    }

    /// `%text%`, with `%`, `_` and `\` in the text matching only themselves.
    package static func pattern(_ text: String) -> String {
        var pattern = "%"
        for character in text {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }
}
