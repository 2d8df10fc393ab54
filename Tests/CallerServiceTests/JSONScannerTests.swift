import Testing

@testable import CallerService

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
}
