import Contacts
import Foundation
import PhoneNumbers
import StoreContract
import Testing

@testable import CallerService

/// The pieces of a sync source: JSON paths, the rules of a definition, separators, Link headers.
@Suite struct SyncRulesTests {
    let validator = PhoneNumberValidator()

    static var item: Any { try! JSONSerialization.jsonObject(with: Data(itemText.utf8)) }
    static let itemText = """
        {"id":42,"big":420601234567,"ratio":1.5,"vip":true,"none":null,"properties":{"firstname":"Jana","last name":"Nováková"},
         "phones":[{"number":"+420 601 234 567"},{"number":"+420 601 234 568"}],"tags":["vip","", "sales"],"nested":{"a":1}}
        """

    @Test(arguments: [
        ("$.properties.firstname", "Jana"), ("properties.firstname", "Jana"), ("$.properties[\"last name\"]", "Nováková"),
        ("$['properties']['firstname']", "Jana"), ("$.phones[1].number", "+420 601 234 568"), ("$.phones[5].number", ""),
        ("$.tags", "vip, sales"), ("$.id", "42"), ("$.big", "420601234567"), ("$.ratio", "1.5"), ("$.vip", "true"), ("$.none", ""),
        ("$.missing.deeper", ""), ("$.nested", #"{"a":1}"#), ("$.id[0]", ""),
    ])
    func pathsReadValuesAsText(path: String, expected: String) throws {
        #expect(try JSONPath(path).text(in: Self.item) == expected)
    }

    @Test(arguments: ["", "$.", "$.a[", "$.a[x]", "$.a[-1]", "$a", "$..a"])
    func aBrokenPathSaysWhere(path: String) {
        #expect(throws: JSONPathError.self) { try JSONPath(path) }
    }

    @Test func durationsAndHeaders() throws {
        #expect(try SyncRules.seconds(of: "15m") == 900)
        #expect(try SyncRules.seconds(of: "1h30m") == 5_400)
        #expect(try SyncRules.seconds(of: "90s") == 90)
        #expect(try SyncRules.seconds(of: "1d") == 86_400)
        for bad in ["", "15", "m", "15x", "1h30", "-5m"] { #expect(throws: InputError.self) { try SyncRules.seconds(of: bad) } }
        #expect(try SyncRules.header(of: "Authorization: Bearer a:b") == SyncDefinition.Header(name: "Authorization", value: "Bearer a:b"))
        #expect(throws: InputError.self) { try SyncRules.header(of: "no colon") }
        #expect(Redaction.headerValue("Bearer abc") == "Bearer ***" && Redaction.headerValue("abc") == "***")
    }

    func definition(_ maps: [String], format: String = "csv", mode: String = "replace", every: String? = nil, url: String = "https://crm.example.com/x",
                    headers: [String] = [], items: String? = nil, region: String? = nil, maxDelete: Int? = nil) throws -> SyncDefinition {
        try SyncRules.definition(url: url, format: format, mode: mode, every: every, headers: headers, mappings: maps, items: items, next: nil,
                                 region: region, maxDeletePercent: maxDelete, validator: validator)
    }

    @Test func aDefinitionThatCouldNeverImportIsRefusedWithTheReason() throws {
        let fine = try definition(["LASTNAME=Surname", "phone1=Mobile Phone"], every: "1m", region: "cz")
        #expect(fine.mapping == ["lastName": "Surname", "phone1": "Mobile Phone"] && fine.region == "CZ" && fine.everySeconds == 60)
        let refusals: [(() throws -> SyncDefinition, String)] = [
            ({ try definition(["surname=a", "phone1=b"]) }, "unknown field 'surname'"),
            ({ try definition(["lastName=a"]) }, "phone1"),
            ({ try definition(["phone1=a"]) }, "firstName, lastName, organization"),
            ({ try definition(["lastName=a", "lastName=b", "phone1=c"]) }, "mapped twice"),
            ({ try definition(["lastName=a", "phone1=b"], every: "59s") }, "once a minute"),
            ({ try definition(["lastName=a", "phone1=b"], url: "file:///etc/passwd") }, "http:// or https://"),
            ({ try definition(["lastName=a", "phone1=b"], url: "https://") }, "http:// or https://"),
            ({ try definition(["lastName=a", "phone1=b"], format: "xml") }, "csv or json"),
            ({ try definition(["lastName=a", "phone1=b"], mode: "merge") }, "replace"),
            ({ try definition(["lastName=a", "phone1=b"], mode: "upsert") }, "externalId"),
            ({ try definition(["lastName=a", "phone1=b"], items: "$.results") }, "CSV source"),
            ({ try definition(["lastName=$.a[", "phone1=$.b"], format: "json") }, "lastName"),
            ({ try definition(["lastName=a", "phone1=b"], region: "XX") }, "not a region"),
            ({ try definition(["lastName=a", "phone1=b"], maxDelete: 101) }, "0 to 100"),
            ({ try definition(["lastName=a", "phone1=b"], headers: ["Bad Name: x"]) }, "header name"),
            ({ try definition(["lastName=a", "phone1=b"], headers: ["If-None-Match: x"]) }, "set by caller-lookup"),
            ({ try definition(["lastName", "phone1=b"]) }, "no '='"),
            ({ try definition(["lastName=\u{0C}", "phone1=b"]) }, "names no column"),
            ({ try definition(["lastName=\u{FEFF}\u{00A0}", "phone1=b"]) }, "names no column"),
        ]
        for (make, reason) in refusals {
            #expect { _ = try make() } throws: { ($0 as? InputError)?.message.contains(reason) == true }
        }
    }

    @Test func theSeparatorIsTheHeaderLines() {
        #expect(CSVReader.detectSeparator(Array("a;b;c\n1,2,3,4,5\n".utf8)) == UInt8(ascii: ";"))
        #expect(CSVReader.detectSeparator(Array("\n\"x;y\",b,c\n".utf8)) == UInt8(ascii: ","))
        #expect(CSVReader.detectSeparator(Array("a\tb\n".utf8)) == UInt8(ascii: "\t"))
        #expect(CSVReader.detectSeparator(Array("single\n".utf8)) == UInt8(ascii: ";"))
        #expect(CSVReader.detectSeparator([]) == UInt8(ascii: ";"))
    }

    @Test func linkHeadersNameTheNextPage() {
        let headers: NIOHTTP1.HTTPHeaders = ["Link": "<https://a/x?p=1>; rel=\"prev\", <https://a/x?p=3>; rel=\"next\""]
        #expect(JSONItems.linkNext(headers) == "https://a/x?p=3")
        #expect(JSONItems.linkNext(["Link": "<https://a/x?p=1>; rel=prev"]) == nil)
        #expect(JSONItems.linkNext([:]) == nil)
    }
}

import NIOHTTP1
