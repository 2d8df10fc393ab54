/// One record of a CSV file: the values of one row and the physical line it starts on.
public struct CSVRecord: Hashable, Sendable {
    /// The 1-based line of the file on which the record starts (the header is usually line 1).
    public let line: Int
    public let values: [String]
    /// Set when the record's quoting is broken; `values` then holds what could be read.
    public let problem: String?
}

/// A file the CSV reader cannot read at all.
public struct CSVFileError: Error, Hashable, Sendable {
    public let line: Int
    public let message: String
}

/// Reads the CSV dialect of SPEC §4 from bytes: values separated by `;`, optionally enclosed in `"`
/// (`""` is a quote inside a quoted value, which may also hold `;` and line breaks), LF or CRLF line
/// ends, a leading UTF-8 BOM ignored, completely empty lines skipped.
///
/// Line numbers are physical lines: a record whose quoted value spans three lines moves the next
/// record's line number by three. Text must be UTF-8; the first invalid byte sequence stops the
/// reader with the line it is on.
///
/// Performance: one pass over the bytes; an unquoted value is decoded straight from the input, a
/// quoted one through a reused scratch buffer.
public struct CSVReader: Sendable {
    private let bytes: [UInt8]
    private var position: Int
    private var line = 1
    private var scratch: [UInt8] = []

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// The next record, or `nil` at the end of the file.
    public mutating func next() throws(CSVFileError) -> CSVRecord? {
        skipEmptyLines()
        guard position < bytes.count else { return nil }
        let startLine = line
        var values: [String] = []
        var problem: String?
        while true {
            let value: String
            if position < bytes.count, bytes[position] == quote {
                let (text, quoteProblem) = try readQuoted(recordLine: startLine, valueNumber: values.count + 1)
                value = text
                if problem == nil { problem = quoteProblem }
            } else {
                value = try readUnquoted()
            }
            values.append(value)
            if position < bytes.count, bytes[position] == separator {
                position += 1
                continue
            }
            consumeLineEnd()
            return CSVRecord(line: startLine, values: values, problem: problem)
        }
    }

    private let quote = UInt8(ascii: "\"")
    private let separator = UInt8(ascii: ";")
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
        return try decode(bytes[start..<position])
    }

    private mutating func readQuoted(recordLine: Int, valueNumber: Int) throws(CSVFileError) -> (String, String?) {
        let openingLine = line
        position += 1
        // Fast path: a quoted value without `""` or line breaks decodes straight from the input.
        var end = position
        while end < bytes.count, bytes[end] != quote, bytes[end] != lf, bytes[end] != cr { end += 1 }
        if end < bytes.count, bytes[end] == quote, end + 1 == bytes.count || bytes[end + 1] != quote {
            let text = try decode(bytes[position..<end])
            position = end + 1
            return try afterClosingQuote(text, valueNumber: valueNumber)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[position..<end])
        position = end
        while true {
            guard position < bytes.count else {
                let text = try decode(scratch[...])
                return (text, "Value \(valueNumber): the quote opened on line \(openingLine) is never closed.")
            }
            let byte = bytes[position]
            if byte == quote {
                if position + 1 < bytes.count, bytes[position + 1] == quote {
                    scratch.append(quote)
                    position += 2
                    continue
                }
                position += 1
                break
            }
            if byte == cr {
                // A line break inside a quoted value is kept as LF, whatever the file's line ends.
                scratch.append(lf)
                position += 1
                if position < bytes.count, bytes[position] == lf { position += 1 }
                line += 1
                continue
            }
            if byte == lf { line += 1 }
            scratch.append(byte)
            position += 1
        }
        return try afterClosingQuote(try decode(scratch[...]), valueNumber: valueNumber)
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
