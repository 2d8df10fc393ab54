import Testing

@testable import Contacts

@Suite struct JSONScannerTests {
    @Test func readsWhatTheAPIWritesIncludingEscapes() throws {
        let text = #"{"id":7,"version":-2,"name":"Nov\u00e1k \"Jan\" \\ \ud83d\ude00\n","skip":[1,{"a":null},true,2.5e3],"none":null,"flag":false}"#
        var scanner = JSONScanner(Array(text.utf8))
        var seen: [String: String] = [:]
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "id", "version": seen[key] = String(try scanner.int64())
            case "name": seen[key] = try scanner.string()
            case "none": seen[key] = scanner.null() ? "null" : "?"
            case "flag": seen[key] = String(try scanner.bool())
            default: try scanner.skipValue()
            }
        }
        let ended = scanner.atEnd()
        #expect(ended)
        #expect(seen == ["id": "7", "version": "-2", "name": "Novák \"Jan\" \\ 😀\n", "none": "null", "flag": "false"])
    }

    @Test(arguments: [#"{"a":1"#, #"{"a" 1}"#, #"{"a":"x\q"}"#, #"{"a":"#, "[1,]", #"{"a":"\u12"}"#, "{\"a\":\"tab\tin\"}"])
    func malformedInputIsAnErrorNotACrash(text: String) {
        #expect(throws: JSONScanner.Failure.self) {
            var scanner = JSONScanner(Array(text.utf8))
            if text.hasPrefix("[") {
                try scanner.array { scanner throws(JSONScanner.Failure) in _ = try scanner.int64() }
            } else {
                try scanner.object { scanner, _ throws(JSONScanner.Failure) in try scanner.skipValue() }
            }
        }
    }

    /// A nesting bomb in a feed answer is refused at the 65th level, not a stack overflow.
    @Test func deepNestingIsRefusedNotAStackOverflow() throws {
        for depth in [JSONScanner.maximumDepth, 100_000] {
            let text = #"{"skip":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
            var scanner = JSONScanner(Array(text.utf8))
            let read = Result { () throws(JSONScanner.Failure) in
                try scanner.object { scanner, _ throws(JSONScanner.Failure) in try scanner.skipValue() }
            }
            if depth == JSONScanner.maximumDepth {
                #expect(throws: Never.self) { try read.get() }
            } else {
                #expect(throws: JSONScanner.Failure.self) { try read.get() }
                if case .failure(let failure) = read { #expect(failure.description.contains("nested more than 64 levels")) }
            }
        }
    }

    /// The mirror's feed readers: a snapshot and a change batch as the API writes them.
    @Test func readsSnapshotsAndChangeBatches() throws {
        let snapshot = try ChangeFeedJSON.snapshot(Array(#"{"version":7,"count":1,"contacts":[{"id":1,"version":7,"displayName":"x","agents":["a"],"lastName":"Novák","phone1":"+420222333444","phone2":null}]}"#.utf8))
        #expect(snapshot.version == 7)
        #expect(snapshot.contacts.map(\.contact.displayName) == ["Novák"])
        let batch = try ChangeFeedJSON.changes(Array(#"{"version":9,"resync":true,"changes":[{"op":"delete","id":1,"version":9}]}"#.utf8))
        #expect(batch == ChangeBatch(changes: [.delete(id: 1, version: 9)], version: 9, resync: true))
        #expect(throws: JSONScanner.Failure.self) { try ChangeFeedJSON.changes(Array(#"{"version":9} trailing"#.utf8)) }
        #expect(throws: JSONScanner.Failure.self) { try ChangeFeedJSON.changes(Array(#"{"changes":[]}"#.utf8)) }
    }

    /// Labels are decoration: unknown keys, values that are not text and empty labels are skipped,
    /// and text that is no JSON object is no labels — never an error.
    @Test func labelsSkipWhatIsNotALabel() {
        let text = #"{"customField1":"Důležitost","customField2":7,"agent1":{"x":[1]},"agent2":"","colour":"red","note":null,"firstName":"Jméno \"J\""}"#
        #expect(ChangeFeedJSON.labels(text) == [.customField1: "Důležitost", .firstName: "Jméno \"J\""])
        for broken in ["", "[]", "{", #"{"customField1":}"#, "null"] {
            #expect(ChangeFeedJSON.labels(broken).isEmpty, "\(broken)")
        }
    }
}
