extension Contact {
    /// Writes the contact as the API shows it: `id`, `version`, `displayName`, `agents` (the set
    /// agent tags, for IVR clients), then every field of SPEC §3 under its CSV column name (`null`
    /// when not set).
    package func writeJSON(id: Int64, version: Int64, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", Int(id))
        writer.field("version", Int(version))
        writer.field("displayName", displayName)
        writer.key("agents")
        writer.beginArray()
        for tag in [self[.agent1], self[.agent2]] where !tag.isEmpty { writer.value(tag) }
        writer.endArray()
        for field in ContactField.allCases {
            let value = self[field]
            writer.key(field.rawValue)
            if value.isEmpty { writer.null() } else { writer.value(value) }
        }
        writer.endObject()
    }
}
