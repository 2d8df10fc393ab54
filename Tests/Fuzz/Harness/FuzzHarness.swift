import Contacts
import PhoneNumbers

/// What each libFuzzer target (`scripts/reliability/fuzz.sh`) does with one input, and the
/// properties it checks. The fuzz executables only call these; `FuzzRegressionTests` runs the same
/// functions over the seed corpus and every input a fuzzer ever found (`Tests/Fuzz/regressions`),
/// so a crash input stays a test.
///
/// Each returns `nil` when the input was handled as the contract says, or what went wrong. A
/// crash, an overflow or a sanitizer report is a finding too: the harness never hides one.
package enum FuzzHarness {
    package enum Target: String, CaseIterable, Sendable {
        case csv, normalizer, numberPlan = "number-plan", json
    }

    package static func run(_ target: Target, _ bytes: [UInt8]) -> String? {
        switch target {
        case .csv: return csv(bytes)
        case .normalizer: return normalizer(bytes)
        case .numberPlan: return numberPlan(bytes)
        case .json: return json(bytes)
        }
    }

    /// Regions the first input byte chooses from: small and large plans, national prefixes that
    /// are kept (IT), several trunk prefixes (BY `8`), several IDDs (US/AU), shared country codes.
    static let regions = ["CZ", "SK", "DE", "GB", "US", "IT", "BY", "RU", "AU", "BR", "AR", "MX", "IN", "CN", "JP", "FR", "KZ", "CA", "NZ", "SG"]

    static func region(_ bytes: [UInt8]) -> (region: String, rest: ArraySlice<UInt8>) {
        guard let first = bytes.first else { return ("CZ", []) }
        return (regions[Int(first) % regions.count], bytes.dropFirst())
    }

    static let validator = PhoneNumberValidator(plan: .library)

    // MARK: CSV

    /// The import reader and rules: the file is either refused whole with a message, or every
    /// record is accepted or rejected exactly once, on increasing lines, and every accepted contact
    /// passes the rules again from its own values (nothing the reader produced is half-checked).
    static func csv(_ bytes: [UInt8]) -> String? {
        var records = 0
        var reader = CSVReader(bytes)
        var lastLine = 0
        do {
            while let record = try reader.next() {
                guard record.line > lastLine else { return "CSV record on line \(record.line) after line \(lastLine)" }
                lastLine = record.line
                records += 1
            }
        } catch {
            guard error.line >= 1, !error.message.isEmpty else { return "CSV error without line or message: \(error)" }
        }
        let parsed: ParsedImport
        do {
            parsed = try ParsedImport.parse(bytes, validator: validator)
        } catch {
            return error.message.isEmpty ? "import refused without a message" : nil
        }
        guard !parsed.rows.isEmpty else { return "an import was accepted with no row" }
        guard parsed.rows.count + parsed.rejected.count == records - 1 else {
            return "\(records - 1) rows read but \(parsed.rows.count) accepted and \(parsed.rejected.count) rejected"
        }
        guard parsed.rejected.listed.count + parsed.rejected.omitted == parsed.rejected.count else {
            return "the report lists \(parsed.rejected.listed.count) and omits \(parsed.rejected.omitted) of \(parsed.rejected.count) rows"
        }
        let lines = (parsed.rows.map(\.line) + parsed.rejectedRows.map(\.line)).sorted()
        guard Set(lines).count == lines.count else { return "a line was reported twice" }
        for row in parsed.rows {
            let fields = parsed.columns.map { ($0, row.contact[$0]) }
            switch Contact.validate(fields: fields, validator: validator) {
            case .success(let again) where again == row.contact: continue
            case .success: return "line \(row.line): the contact changes when its own values are checked again"
            case .failure(let failure): return "line \(row.line): an accepted contact fails its own rules: \(failure.message)"
            }
        }
        for row in parsed.rejectedRows where row.violations.isEmpty || row.reportLine.isEmpty {
            return "line \(row.line) rejected without a reason"
        }
        return nil
    }

    // MARK: Caller numbers

    /// The PBX number normalizer: candidates are distinct numbers of at most
    /// `PhoneNumber.maximumDigits` digits (what libphonenumber reads against the normalizer is
    /// `CallerNumberDifferentialTests`' job).
    static func normalizer(_ bytes: [UInt8]) -> String? {
        let (region, rest) = region(bytes)
        guard let normalizer = CallerNumberNormalizer(region: region, plan: .library) else { return "no normalizer for \(region)" }
        let candidates = rest.withUnsafeBufferPointer { normalizer.normalize(utf8: $0) }
        var seen = Set<PhoneNumber>()
        for candidate in candidates {
            guard candidate.rawValue <= PhoneNumber.maximumRawValue, candidate.digitCount <= PhoneNumber.maximumDigits else {
                return "candidate \(candidate) has more than \(PhoneNumber.maximumDigits) digits"
            }
            guard seen.insert(candidate).inserted else { return "candidate \(candidate) listed twice" }
        }
        guard seen.count == candidates.count else { return "count \(candidates.count) but \(seen.count) candidates" }
        return nil
    }

    /// The compiled number plan against libphonenumber, its oracle: wherever the plan answers, the
    /// verdict (valid, E.164, type, region, reason) is libphonenumber's, for national and
    /// international input.
    static func numberPlan(_ bytes: [UInt8]) -> String? {
        let (region, rest) = region(bytes)
        let text = String(decoding: rest, as: UTF8.self)
        for defaultRegion in [region, nil] {
            guard let planned = NumberPlan.library.verdict(for: text, defaultRegion: defaultRegion) else { continue }
            let oracle = validator.libphonenumberVerdict(text, defaultRegion: defaultRegion)
            guard planned == oracle else {
                return "\(text.debugDescription) in \(defaultRegion ?? "international form"): plan \(planned), libphonenumber \(oracle)"
            }
        }
        return nil
    }

    // MARK: JSON

    /// Every JSON reader of the REST API and of the mirror's feed: each answers a value or a
    /// clear refusal. A contact body that decodes is then checked by the contact rules.
    static func json(_ bytes: [UInt8]) -> String? {
        do {
            let fields = try ContactInput.fields(from: bytes)
            do {
                _ = try ContactInput.contact(fields, validator: validator)
            } catch {
                if error.kind != .refused || error.message.isEmpty { return "a contact refused without a clear reason: \(error)" }
            }
        } catch {
            if error.message.isEmpty { return "contact body refused without a message" }
        }
        do {
            let items = try ContactInput.batch(from: bytes)
            for item in items {
                if let contact = item.contact { _ = try? ContactInput.fields(of: contact) }
            }
        } catch {
            if error.message.isEmpty { return "batch body refused without a message" }
        }
        do {
            _ = try ContactInput.labelChanges(from: bytes)
        } catch {
            if error.message.isEmpty { return "labels refused without a message" }
        }
        do {
            _ = try ChangeFeedJSON.snapshot(bytes)
        } catch {
            if error.description.isEmpty { return "snapshot refused without a message" }
        }
        do {
            let batch = try ChangeFeedJSON.changes(bytes)
            for case .upsert(let stored) in batch.changes where stored.contact.values.count != ContactField.allCases.count {
                return "a feed contact with \(stored.contact.values.count) values"
            }
        } catch {
            if error.description.isEmpty { return "change feed refused without a message" }
        }
        return nil
    }
}
