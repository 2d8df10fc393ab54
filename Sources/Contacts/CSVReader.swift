/// Where an import's records come from, one at a time, the header first: a CSV file
/// (`CSVReader`), or items of another format laid out as records (a CRM's JSON export).
public protocol ImportRecordReader: Sendable {
    /// The next record, or `nil` at the end; throws when the input cannot be read on.
    mutating func next() throws(CSVFileError) -> CSVRecord?
}

extension CSVReader: ImportRecordReader {}

/// One record of a CSV file: the values of one row and the physical line it starts on.
public struct CSVRecord: Hashable, Sendable {
    /// The 1-based line of the file on which the record starts (the header is usually line 1).
    public let line: Int
    public let values: [String]
    /// Set when the record's quoting is broken; `values` then holds what could be read.
    public let problem: String?
    /// Set when the record is over the reader's limits; `values` is then empty (nothing of it was
    /// kept) and this says which limit, on which line.
    public let oversized: String?

    public init(line: Int, values: [String], problem: String?, oversized: String? = nil) {
        (self.line, self.values, self.problem, self.oversized) = (line, values, problem, oversized)
    }
}

/// A file the CSV reader cannot read at all.
public struct CSVFileError: Error, Hashable, Sendable {
    public let line: Int
    public let message: String
}

/// Reads the CSV dialect of the import contract (docs/contract.md) from bytes: values separated by `;`, optionally enclosed in `"`
/// (`""` is a quote inside a quoted value, which may also hold `;` and line breaks), LF or CRLF line
/// ends, a leading UTF-8 BOM ignored, completely empty lines skipped.
///
/// Line numbers are physical lines: a record whose quoted value spans three lines moves the next
/// record's line number by three. Text must be UTF-8; the first invalid byte sequence stops the
/// reader with the line it is on.
///
/// Performance: one pass over the bytes; an unquoted value is decoded straight from the input, a
/// quoted one through a reused scratch buffer.
///
/// Memory: a record is bounded by `Limits`. One over them (a row of millions of `;`, a quoted value
/// of megabytes) is read to its end without keeping its values, and returned empty with
/// `oversized` saying why, so a hostile file costs no more than its own bytes.
public struct CSVReader: Sendable {
    /// The most a record may hold; a contact row of the customer's format needs far less (about
    /// thirty columns of at most a few hundred characters).
    public struct Limits: Sendable {
        public var valuesPerRecord: Int
        public var bytesPerRecord: Int

        public init(valuesPerRecord: Int = 256, bytesPerRecord: Int = 65_536) {
            (self.valuesPerRecord, self.bytesPerRecord) = (valuesPerRecord, bytesPerRecord)
        }
    }

    private let bytes: [UInt8]
    private var position: Int
    private var line = 1
    private var scratch: [UInt8] = []
    private let limits: Limits
    private let separator: UInt8

    /// A reader of `bytes` whose values are separated by `separator` (the import contract's `;`
    /// unless told otherwise: an export from another system may use `,` or a tab).
    public init(_ bytes: [UInt8], separator: UInt8 = UInt8(ascii: ";"), limits: Limits = Limits()) {
        self.bytes = bytes
        self.position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        self.limits = limits
        self.separator = separator
    }

    /// The separator a file's header line uses: whichever of `;`, `,` and tab occurs most often
    /// outside quotes on the first non-empty line (`;` when none does).
    public static func detectSeparator(_ bytes: [UInt8]) -> UInt8 {
        let candidates: [UInt8] = [UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "\t")]
        var counts = [0, 0, 0]
        var quoted = false
        var sawText = false
        for byte in bytes.prefix(65_536) {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted, byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if sawText { break } else { continue }
            }
            sawText = true
            if !quoted, let index = candidates.firstIndex(of: byte) { counts[index] += 1 }
        }
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }), counts[best] > 0 else { return candidates[0] }
        return candidates[best]
    }

    /// The next record, or `nil` at the end of the file.
    public mutating func next() throws(CSVFileError) -> CSVRecord? {
        skipEmptyLines()
        guard position < bytes.count else { return nil }
        let startLine = line
        let start = position
        var values: [String] = []
        var valueCount = 0
        var problem: String?
        var oversized: String?
        while true {
            let value: String
            if position < bytes.count, bytes[position] == quote {
                let (text, quoteProblem) = try readQuoted(recordLine: startLine, valueNumber: valueCount + 1)
                value = text
                if problem == nil { problem = quoteProblem }
            } else {
                value = try readUnquoted()
            }
            valueCount += 1
            if oversized == nil {
                if valueCount > limits.valuesPerRecord {
                    oversized = "Line \(startLine) has more than \(limits.valuesPerRecord) values; a row has one value per column of the header."
                } else if position - start > limits.bytesPerRecord {
                    oversized = "Line \(startLine) is longer than \(limits.bytesPerRecord / 1_024) KiB; no contact row is that long."
                }
                if oversized != nil { values = [] } else { values.append(value) }
            }
            if position < bytes.count, bytes[position] == separator {
                position += 1
                continue
            }
            consumeLineEnd()
            if let oversized { return CSVRecord(line: startLine, values: [], problem: nil, oversized: oversized) }
            return CSVRecord(line: startLine, values: values, problem: problem)
        }
    }

    private let quote = UInt8(ascii: "\"")
    private let lf = UInt8(ascii: "\n")
    private let cr = UInt8(ascii: "\r")

    private mutating func skipEmptyLines() {
        while position < bytes.count, bytes[position] == lf || bytes[position] == cr {
            consumeLineEnd()
        }
    }

    /// Consumes LF, CRLF or a lone CR at `position`, if any.
    private mutating func consumeLineEnd() {
        guard position < bytes.count else { return }
        if bytes[position] == cr {
            position += 1
            if position < bytes.count, bytes[position] == lf { position += 1 }
            line += 1
        } else if bytes[position] == lf {
            position += 1
            line += 1
        }
    }

    private mutating func readUnquoted() throws(CSVFileError) -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == separator || byte == lf || byte == cr { break }
            position += 1
        }
        // Longer than a whole record may be: its record is dropped, so it is never decoded.
        guard position - start <= limits.bytesPerRecord else { return "" }
        return try decode(bytes[start..<position])
    }

    private mutating func readQuoted(recordLine: Int, valueNumber: Int) throws(CSVFileError) -> (String, String?) {
        let openingLine = line
        position += 1
        // Fast path: a quoted value without `""` or line breaks decodes straight from the input.
        var end = position
        while end < bytes.count, bytes[end] != quote, bytes[end] != lf, bytes[end] != cr { end += 1 }
        if end < bytes.count, bytes[end] == quote, end + 1 == bytes.count || bytes[end + 1] != quote {
            let text = end - position <= limits.bytesPerRecord ? try decode(bytes[position..<end]) : ""
            position = end + 1
            return try afterClosingQuote(text, valueNumber: valueNumber)
        }
        scratch.removeAll(keepingCapacity: true)
        // Past a record's limit the value's bytes are no longer kept (the record is dropped), only
        // scanned for the closing quote and the lines.
        let keep = limits.bytesPerRecord + 1
        scratch.append(contentsOf: bytes[position..<min(end, position + keep)])
        position = end
        while true {
            guard position < bytes.count else {
                let text = scratch.count < keep ? try decode(scratch[...]) : ""
                return (text, "Value \(valueNumber): the quote opened on line \(openingLine) is never closed.")
            }
            let byte = bytes[position]
            if byte == quote {
                if position + 1 < bytes.count, bytes[position + 1] == quote {
                    if scratch.count < keep { scratch.append(quote) }
                    position += 2
                    continue
                }
                position += 1
                break
            }
            if byte == cr {
                // A line break inside a quoted value is kept as LF, whatever the file's line ends.
                if scratch.count < keep { scratch.append(lf) }
                position += 1
                if position < bytes.count, bytes[position] == lf { position += 1 }
                line += 1
                continue
            }
            if byte == lf { line += 1 }
            if scratch.count < keep { scratch.append(byte) }
            position += 1
        }
        return try afterClosingQuote(scratch.count < keep ? try decode(scratch[...]) : "", valueNumber: valueNumber)
    }

    /// After a closing quote: blanks are tolerated; any other text before the separator or line
    /// end is a broken row (the text is kept with it).
    private mutating func afterClosingQuote(_ value: String, valueNumber: Int) throws(CSVFileError) -> (String, String?) {
        var text = value
        while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
            position += 1
        }
        guard position < bytes.count, bytes[position] != separator, bytes[position] != lf, bytes[position] != cr
        else { return (text, nil) }
        let rest = try readUnquoted()
        text += rest
        return (text, "Value \(valueNumber): text after the closing quote; a quote inside a quoted value is written \"\".")
    }

    private static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let raw = UnsafeRawBufferPointer(buffer)
        while index + 8 <= buffer.count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < buffer.count {
            if buffer[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }

    private func decode(_ slice: ArraySlice<UInt8>) throws(CSVFileError) -> String {
        let decoded = slice.withUnsafeBufferPointer { buffer in
            // ASCII needs no validation, and decoding it takes the standard library's fast path.
            Self.isASCII(buffer) ? String(decoding: buffer, as: UTF8.self) : String(validating: buffer, as: UTF8.self)
        }
        if let text = decoded { return text }
        throw CSVFileError(
            line: line,
            message: "Line \(line) is not valid UTF-8 text. Save the file as UTF-8 (CSV UTF-8 in Excel) and upload it again."
        )
    }
}
