/// Why a `multipart/form-data` body was refused.
struct MultipartError: Error, Equatable {
    let message: String
}

/// Just enough of RFC 7578 to take one file out of a form: finds the part whose
/// `Content-Disposition` names `field`, and refuses a body with no such part, two of them, or a
/// part that never ends.
enum Multipart {
    /// The `boundary` parameter of a `multipart/form-data` content type, or `nil`.
    static func boundary(contentType: String) -> String? {
        guard let value = parameter("boundary", in: contentType[...]) else { return nil }
        return value.isEmpty || value.utf8.count > 70 ? nil : value
    }

    /// The value of `name` among a header value's `; key=value` parameters, unquoted.
    static func parameter(_ name: String, in header: Substring) -> String? {
        for parameter in header.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: " \t").lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: " \t")
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// The bytes of the form field `field`.
    ///
    /// With `file`, the part must be a file (its `Content-Disposition` has a `filename`), as a
    /// browser's file input and `curl --form file=@…` send it: a plain text field of that name —
    /// what a form on another site can fill in without the user choosing a file — is refused.
    static func field(_ field: String, in body: [UInt8], boundary: String, file: Bool = false) throws(MultipartError) -> [UInt8] {
        let delimiter = Array("--\(boundary)".utf8)
        var found: [UInt8]?
        guard var position = find(delimiter, in: body, from: 0) else {
            throw MultipartError(message: "The body has no part with the boundary of its Content-Type.")
        }
        while true {
            position += delimiter.count
            if body[position...].starts(with: Array("--".utf8)) { break }  // closing delimiter
            guard let headersEnd = find(Array("\r\n\r\n".utf8), in: body, from: position) else {
                throw MultipartError(message: "A part of the form is truncated (its headers never end).")
            }
            let headers = String(decoding: body[position..<headersEnd], as: UTF8.self)
            let contentStart = headersEnd + 4
            guard let next = find(Array("\r\n".utf8) + delimiter, in: body, from: contentStart) else {
                throw MultipartError(message: "A part of the form is truncated (no closing boundary).")
            }
            if name(inHeaders: headers) == field {
                guard !file || disposition("filename", inHeaders: headers) != nil else {
                    throw MultipartError(
                        message: "The form's '\(field)' part is not a file; send the CSV file itself (curl --form \(field)=@import.csv).")
                }
                guard found == nil else {
                    throw MultipartError(message: "The form has two '\(field)' parts; send exactly one file.")
                }
                found = Array(body[contentStart..<next])
            }
            position = next + 2
        }
        guard let found else {
            throw MultipartError(message: "The form has no '\(field)' part; send the CSV as --form \(field)=@import.csv.")
        }
        return found
    }

    /// The `name` of a part's `Content-Disposition: form-data; name="…"`.
    static func name(inHeaders headers: String) -> String? {
        disposition("name", inHeaders: headers)
    }

    /// A parameter (`name`, `filename`) of a part's `Content-Disposition`.
    static func disposition(_ parameterName: String, inHeaders headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            guard line.lowercased().hasPrefix("content-disposition:") else { continue }
            return parameter(parameterName, in: line)
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}
