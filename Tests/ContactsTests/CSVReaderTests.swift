import Contacts
import Testing

@Suite struct CSVReaderTests {
    func records(_ text: String) throws -> [CSVRecord] {
        var reader = CSVReader(Array(text.utf8))
        var result: [CSVRecord] = []
        while let record = try reader.next() { result.append(record) }
        return result
    }

    /// A record over the limits is read to its end, kept empty and named by its line; the records
    /// around it are read as ever, with their line numbers.
    @Test func recordsOverTheLimitsAreDroppedWholeAndNamed() throws {
        let limits = CSVReader.Limits(valuesPerRecord: 4, bytesPerRecord: 32)
        func read(_ text: String) throws -> [CSVRecord] {
            var reader = CSVReader(Array(text.utf8), limits: limits)
            var result: [CSVRecord] = []
            while let record = try reader.next() { result.append(record) }
            return result
        }
        let long = String(repeating: "é", count: 40)  // 80 bytes: cut in the middle of a character
        let text = "a;b\nx;;;;;;;\n\"\(long)\";1\n\(long);2\n\"q\"\"\(long)\n\(long)\";3\nlast;row\n"
        let rows = try read(text)
        #expect(rows.map(\.line) == [1, 2, 3, 4, 5, 7])
        #expect(rows[0].values == ["a", "b"] && rows[0].oversized == nil)
        #expect(rows[1].values.isEmpty && rows[1].oversized == "Line 2 has more than 4 values; a row has one value per column of the header.")
        for row in rows[2...4] {
            #expect(row.values.isEmpty && row.oversized?.hasPrefix("Line \(row.line) is longer than") == true, "\(row)")
        }
        #expect(rows[5].values == ["last", "row"] && rows[5].oversized == nil)
        // At the limits exactly: kept.
        #expect(try read("1;2;3;4\n").first?.values == ["1", "2", "3", "4"])
        #expect(try read(String(repeating: "x", count: 32) + "\n").first?.oversized == nil)
    }

    /// The hostile shapes of an upload: millions of empty values in one row, one value of
    /// megabytes (quoted and not), a never-closed quote. None of them keeps more than a record's
    /// limit of values or bytes.
    @Test func hostileShapesCostNoMoreThanTheirBytes() throws {
        let semicolons = "lastName;phone1\nx" + String(repeating: ";", count: 2_000_000) + "\n"
        var rows = try records(semicolons)
        #expect(rows.count == 2 && rows[1].values.isEmpty && rows[1].oversized?.contains("more than 256 values") == true)
        rows = try records("lastName;phone1\n\"" + String(repeating: "a", count: 3_000_000) + "\";1\n")
        #expect(rows[1].values.isEmpty && rows[1].oversized?.contains("64 KiB") == true)
        rows = try records("lastName;phone1\n" + String(repeating: "a", count: 3_000_000) + ";1\n")
        #expect(rows[1].values.isEmpty && rows[1].oversized != nil)
        rows = try records("lastName;phone1\n\"" + String(repeating: "\"\"\n", count: 1_000_000))
        #expect(rows.count == 2 && rows[1].values.isEmpty && rows[1].oversized != nil)
    }

    @Test func quotedAndEmptyValues() throws {
        let rows = try records("a;b;c\n\"x\";;\"z\"\n")
        #expect(rows.map(\.values) == [["a", "b", "c"], ["x", "", "z"]])
        #expect(rows.map(\.line) == [1, 2])
    }

    @Test func doubledQuotesSeparatorsAndLineBreaksInsideQuotes() throws {
        let rows = try records("a;b\n\"say \"\"hi\"\"\";\"x;y\nz\"\nnext;row\n")
        #expect(rows[1].values == ["say \"hi\"", "x;y\nz"])
        #expect(rows[1].line == 2)
        #expect(rows[2].line == 4, "the row after a two-line value starts on line 4")
    }

    @Test func bomAndCRLF() throws {
        let rows = try records("\u{FEFF}a;b\r\n1;\"2\r\n3\"\r\n4;5\r\n")
        #expect(rows.map(\.values) == [["a", "b"], ["1", "2\n3"], ["4", "5"]])
        #expect(rows.map(\.line) == [1, 2, 4])
    }

    @Test func emptyLinesAreSkippedButCounted() throws {
        let rows = try records("a;b\n\n\r\n1;2\n\n")
        #expect(rows.map(\.line) == [1, 4])
    }

    @Test func lastLineWithoutLineEnd() throws {
        #expect(try records("a;b\n1;2").last?.values == ["1", "2"])
    }

    @Test func trailingSeparatorIsAnEmptyValue() throws {
        #expect(try records("a;b;\n").first?.values == ["a", "b", ""])
        #expect(try records("a;b;").first?.values == ["a", "b", ""], "a file cut after a separator")
        #expect(try records("a;\"").first?.values == ["a", ""], "a file cut after an opening quote")
    }

    @Test func everyPrefixOfAFileIsReadWithoutCrashing() throws {
        let text = Array("\u{FEFF}firstName;lastName;phone1\r\n\"Jan\";\"No\"\"v;\nák\";+420222333444\r\n;;\n\"x\"y;\"\n".utf8)
        for length in 0...text.count {
            var reader = CSVReader(Array(text[..<length]))
            do {
                while try reader.next() != nil {}
            } catch {}
        }
    }

    @Test func unclosedQuoteIsARowProblem() throws {
        let rows = try records("a;b\n\"open;2\n3;4\n")
        #expect(rows.count == 2)
        #expect(rows[1].problem?.contains("never closed") == true)
    }

    @Test func textAfterClosingQuoteIsARowProblem() throws {
        let rows = try records("a;b\n\"x\"y;2\n")
        #expect(rows[1].problem != nil)
        #expect(rows[1].values.count == 2)
        #expect(try records("a;b\n\"x\"  ;2\n")[1].problem == nil, "blanks after the closing quote are fine")
    }

    @Test func invalidUTF8NamesTheLine() {
        var bytes = Array("a;b\n1;2\nx;".utf8)
        bytes += [0xC3, 0x28, 0x0A]
        var reader = CSVReader(bytes)
        #expect(throws: CSVFileError.self) {
            while try reader.next() != nil {}
        }
        var again = CSVReader(bytes)
        do {
            while try again.next() != nil {}
        } catch {
            #expect(error.line == 3)
            #expect(error.message.contains("Line 3"))
        }
    }
}
