import Contacts
import PhoneNumbers
import TestSupport
import Testing

@Suite struct CSVImportTests {
    let validator = PhoneNumberValidator()

    func parse(_ text: String) throws -> ParsedImport {
        try ParsedImport.parse(Array(text.utf8), validator: validator)
    }

    func rejection(_ text: String) -> ImportRejection? {
        do {
            _ = try ParsedImport.parse(Array(text.utf8), validator: validator)
            return nil
        } catch {
            return error
        }
    }

    /// Files large enough to be checked on several cores report exactly what a row-by-row reading
    /// reports: the same rows and errors, in file order, duplicates pointing at their first line.
    @Test func largeFileIsCheckedInParallelWithTheSameReport() throws {
        var lines = ["lastName;phone1;externalId"]
        var expectedRejected: [Int: String] = [:]
        for row in 1...(ParsedImport.windowSize + 5_000) {
            let line = row + 1
            let national = String(row).leftPadded(to: 6)
            if row % 997 == 0 {
                lines.append("Bad\(row);+42022233;ext\(row)")
                expectedRejected[line] = "Error on line number \(line) occured. Column phone1: '+42022233' is not a valid phone number."
            } else if row % 1231 == 0 {
                lines.append("Twin\(row);+420 222 \(national);ext\(row - 1)")
                expectedRejected[line] = "duplicate"
            } else if row % 1500 == 0 {
                lines.append("Short\(row);+420 222 \(national)")
                expectedRejected[line] = "count"
            } else {
                lines.append("Name\(row);+420 222 \(national);ext\(row)")
            }
        }
        let parsed = try parse(lines.joined(separator: "\n"))
        #expect(parsed.rejectedRows.map(\.line) == expectedRejected.keys.sorted())
        #expect(parsed.rows.count == ParsedImport.windowSize + 5_000 - expectedRejected.count)
        #expect(parsed.rows.map(\.line) == parsed.rows.map(\.line).sorted())
        for rejected in parsed.rejectedRows {
            switch expectedRejected[rejected.line] {
            case "duplicate": #expect(rejected.violations.first?.rule == .duplicateExternalId(firstLine: rejected.line - 1))
            case "count": #expect(rejected.violations.first?.rule == .wrongValueCount(expected: 3, found: 2))
            case let message?: #expect(rejected.reportLine == message)
            case nil: Issue.record("unexpected rejection of line \(rejected.line)")
            }
        }
        let last = try #require(parsed.rows.last)
        #expect(last.contact.phone1.e164 == "+420222" + String(ParsedImport.windowSize + 5_000).leftPadded(to: 6))
    }

    /// A row of a hostile shape is one rejected row that names its line and the limit; the rows
    /// around it import. A header over the limits refuses the file.
    @Test func aRowOverTheLimitsIsRejectedByLine() throws {
        let parsed = try parse("lastName;phone1\nNovák;+420 601 222 333\nx" + String(repeating: ";", count: 100_000) + "\nDvořák;+420 601 222 334\n")
        #expect(parsed.rows.map(\.line) == [2, 4])
        let rejected = try #require(parsed.rejectedRows.first)
        #expect(rejected.line == 3 && rejected.violations.first?.ruleName == "row-too-large")
        #expect(rejected.reportLine.contains("Line 3 has more than 256 values"), "\(rejected.reportLine)")
        let header = rejection(String(repeating: "lastName;", count: 300) + "phone1\nNovák;+420 601 222 333\n")
        #expect(header?.message.contains("header row (line 1) is broken: Line 1 has more than 256 values") == true, "\(String(describing: header))")
    }

    @Test func customersMinimalFile() throws {
        let parsed = try ParsedImport.parse(Fixtures.minimalCSV, validator: validator)
        #expect(parsed.rows.count == 1)
        #expect(parsed.rejectedRows.isEmpty)
        #expect(parsed.rows[0].contact[.lastName] == "Novák")
        #expect(parsed.rows[0].contact.phone1.e164 == "+420222333444")
    }

    @Test func customersMaximalFile() throws {
        let parsed = try ParsedImport.parse(Fixtures.maximalCSV, validator: validator)
        #expect(parsed.rejectedRows.isEmpty)
        #expect(parsed.rows.map(\.line) == [2, 3])
        let (jan, ivan) = (parsed.rows[0].contact, parsed.rows[1].contact)
        #expect(jan[.organization] == "IPEX a.s.")
        #expect(jan[.customField2] == "Mikuš")
        #expect(jan[.organizationUri] == "https://nase.aplikace.cz/account/12123")
        #expect(ivan[.lastName] == "Neúplný")
        #expect(ivan[.organization] == "")
        #expect(ivan[.email] == "")
        #expect(jan.phone1 == ivan.phone1, "both contacts share +420222333444")
    }

    /// Numbers of more than 15 digits that libphonenumber calls valid (German toll-free numbers
    /// with 11 digits after `800`) are imported, in E.164 form; one digit more is too long.
    @Test func numbersLongerThanFifteenDigitsAreImported() throws {
        let parsed = try parse(
            "lastName;phone1;phone2\nFree;+49 800 12345678908;+4980012345678907\nToo long;+49 800 123456789012345;\n")
        #expect(parsed.rows.count == 1)
        #expect(parsed.rows.first?.contact.phone1.e164 == "+4980012345678908")
        #expect(parsed.rows.first?.contact.phone2?.e164 == "+4980012345678907")
        #expect(parsed.rejectedRows.map(\.line) == [3])
    }

    @Test func reportOfACleanImport() throws {
        let report = ImportReport(imported: 2, created: 2, updated: 0, deleted: 0, unchanged: 0, rejected: RejectedRowList(), version: 1)
        #expect(report.json.hasPrefix(#"{"message":"uploaded","error":"","#))
    }

    @Test func rowErrorsUseTheContractLine() throws {
        let parsed = try parse("lastName;phone1\nNovák;+420222333444\nDvořák;+42022233\n;+420222333444\n")
        #expect(parsed.rows.count == 1)
        let report = ImportReport(imported: 1, created: 1, updated: 0, deleted: 0, unchanged: 0,
                                  rejected: parsed.rejected, version: 1)
        #expect(report.error == """
            Error on line number 3 occured. Column phone1: '+42022233' is not a valid phone number.
            Error on line number 4 occured. Columns firstName, lastName, organization: all are empty; at least one is required.
            """)
        #expect(report.json.contains(#""rejected":2"#))
        #expect(report.json.contains(#"{"line":3,"column":"phone1","value":"+42022233","rule":"invalid-phone-number: too short","message":"Column phone1: '+42022233' is not a valid phone number."}"#))
    }

    @Test func lineNumbersFollowMultiLineValuesAndBlankLines() throws {
        let text = "lastName;customField1;phone1\n\"A\";\"two\nlines\";+420222333444\n\n\"B\";x;+42\n"
        let parsed = try parse(text)
        #expect(parsed.rows.map(\.line) == [2])
        #expect(parsed.rejectedRows.map(\.line) == [5])
    }

    @Test func wrongValueCountIsARowError() throws {
        let parsed = try parse("lastName;phone1\nNovák;+420222333444;extra\nDvořák\nKrál;+420222333445\n")
        #expect(parsed.rejectedRows.map(\.line) == [2, 3])
        #expect(parsed.rejectedRows[0].reportLine == "Error on line number 2 occured. The row has 3 values but the header has 2 columns.")
    }

    @Test func headerIsCaseInsensitiveAndAnyOrder() throws {
        let parsed = try parse("PHONE1; LastName ;EMAIL\n+420222333444;Novák;jan@novak.com\n")
        #expect(parsed.rows.first?.contact[.email] == "jan@novak.com")
    }

    @Test func unknownColumnRejectsTheFile() throws {
        let error = try #require(rejection("lastName;phone1;phone3\nNovák;+420222333444;x\n"))
        #expect(error.message.contains("unknown column 'phone3'"))
        #expect(error.json.hasPrefix(#"{"message":"rejected","error":""#))
    }

    @Test func repeatedColumnRejectsTheFile() throws {
        let error = try #require(rejection("lastName;phone1;LASTNAME\nNovák;+420222333444;x\n"))
        #expect(error.message.contains("repeats column 'lastName'"))
    }

    @Test func headerMustHavePhone1AndAName() throws {
        #expect(try #require(rejection("lastName;phone2\nx;+420222333444\n")).message.contains("phone1"))
        #expect(try #require(rejection("email;phone1\na@b.cz;+420222333444\n")).message.contains("firstName, lastName, organization"))
    }

    @Test func emptyFileAndHeaderOnlyAreRejected() throws {
        #expect(rejection("") != nil)
        #expect(rejection("\u{FEFF}\n\n") != nil)
        #expect(rejection("lastName;phone1\n") != nil)
    }

    @Test func noValidRowRejectsTheFileAndListsTheRows() throws {
        let error = try #require(rejection("lastName;phone1\nNovák;+42\nKrál;\n"))
        #expect(error.rejectedRows.map(\.line) == [2, 3])
        #expect(error.message.contains("Error on line number 2 occured."))
    }

    @Test func duplicateExternalIdKeepsTheFirst() throws {
        let parsed = try parse("externalId;lastName;phone1\n7;A;+420222333444\n7;B;+420222333445\n")
        #expect(parsed.rows.map(\.line) == [2])
        #expect(parsed.rejectedRows.first?.reportLine == "Error on line number 3 occured. Column externalId: '7' is a duplicate of the externalId on line 2.")
    }

    @Test func bomAndCRLFFile() throws {
        let parsed = try ParsedImport.parse([0xEF, 0xBB, 0xBF] + Array("lastName;phone1\r\n\"Novák\";\"+420222333444\"\r\n".utf8), validator: validator)
        #expect(parsed.rows.first?.contact[.lastName] == "Novák")
    }

    @Test func nonUTF8FileIsRejectedWithTheLine() throws {
        let latin2: [UInt8] = Array("lastName;phone1\n".utf8) + [0x4E, 0x6F, 0x76, 0xE1, 0x6B] + Array(";+420222333444\n".utf8)
        do {
            _ = try ParsedImport.parse(latin2, validator: validator)
            Issue.record("a Latin-2 file must be rejected")
        } catch {
            #expect(error.message.contains("Line 2"))
        }
    }

    @Test func csvInjectionIsPlainText() throws {
        let parsed = try parse("lastName;customField1;phone1\n\"=cmd|' /C calc'!A0\";\"@SUM(1)\";+420222333444\n")
        #expect(parsed.rows.first?.contact[.lastName] == "=cmd|' /C calc'!A0")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
