@testable import Contacts
import Foundation
import Testing

@Suite struct JSONWriterTests {
    @Test func escapesAndParsesBack() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", "a\"b\\c\nd\u{1}é😀</script>")
        writer.field("n", 42)
        writer.key("list")
        writer.beginArray()
        writer.value(true)
        writer.null()
        writer.endArray()
        writer.endObject()
        let object = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any]
        #expect(object?["text"] as? String == "a\"b\\c\nd\u{1}é😀</script>")
        #expect(object?["n"] as? Int == 42)
        #expect(writer.string.hasPrefix(#"{"text":"#))
    }
}
