import PhoneNumbers

/// A small, fast, seeded random generator (SplitMix64): the same seed gives the same data on every
/// machine, which `generate` and the benchmarks rely on.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic synthetic contacts for demos and benchmarks: every field of the contact in the proportions
/// of the customer's maximal sample, Czech names with diacritics, and valid numbers of several
/// countries (each checked by the validator, so an import accepts every row).
public struct ContactGenerator {
    private var random: SeededRandom
    private let validator: PhoneNumberValidator?

    /// `validatingNumbers: false` skips the validator's check: for index
    /// benchmarks over a million contacts, where a rare invalid number does not matter.
    public init(seed: UInt64, validatingNumbers: Bool = true) {
        self.random = SeededRandom(seed: seed)
        self.validator = validatingNumbers ? PhoneNumberValidator() : nil
    }

    static let firstNames = ["Jan", "Petr", "Jiří", "Pavel", "Tomáš", "Martin", "Lukáš", "Ondřej", "Jakub", "Václav",
                             "Marie", "Jana", "Eva", "Hana", "Anna", "Lenka", "Kateřina", "Věra", "Lucie", "Zdeňka",
                             "Ivan", "Miloš", "Radek", "Štěpán", "Žaneta", "Dagmar", "Bohumil", "Řehoř"]
    static let lastNames = ["Novák", "Svoboda", "Novotný", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý",
                            "Horák", "Němec", "Marek", "Pospíšil", "Hájek", "Jelínek", "Král", "Růžička", "Beneš",
                            "Fiala", "Sedláček", "Doležal", "Zeman", "Kolář", "Navrátil", "Čermák", "Neúplný", "Mikuš"]
    static let companies = ["IPEX a.s.", "Stavby Morava s.r.o.", "Pekárna U Dvořáků", "Účetnictví Plus s.r.o.",
                            "Elektro Šťastný", "Zámečnictví Kříž", "Nemocnice Na Homolce", "ČEZ Prodej, a.s.",
                            "Škoda Auto a.s.", "Kavárna Šálek", "Autoservis Říha", "Lékárna U Zlatého hada"]
    static let importance = ["VIP", "Standard", "Nový", "Dlužník", "Partner"]
    static let teams = ["Helpdesk", "Obchod", "Technik", "Fakturace", "Servis"]

    /// Country code, national prefixes that make valid numbers, and national number length.
    static let plans: [(country: String, prefixes: [String], length: Int)] = [
        ("420", ["2", "3", "5", "6", "7"], 9),
        ("420", ["60", "72", "73", "77", "79"], 9),
        ("421", ["90", "91", "94", "2"], 9),
        ("49", ["30", "89", "40", "151", "160", "170"], 10),
        ("43", ["1", "664", "676"], 10),
        ("48", ["50", "51", "60", "22"], 9),
        ("44", ["20", "7700", "7911"], 10),
        ("1", ["212", "415", "646"], 10),
    ]

    /// A valid phone number in E.164 form, Czech numbers three times out of four.
    public mutating func phoneNumber() -> String {
        while true {
            let plan = random.next() % 4 != 0
                ? Self.plans[Int(random.next() % 2)]
                : Self.plans[2 + Int(random.next() % UInt64(Self.plans.count - 2))]
            var national = plan.prefixes[Int(random.next() % UInt64(plan.prefixes.count))]
            while national.count < plan.length { national.append(Character(String(random.next() % 10))) }
            let text = "+" + plan.country + national
            guard let validator else { return text }
            if validator.validateInternational(text).validNumber != nil { return text }
        }
    }

    private mutating func pick(_ values: [String]) -> String {
        values[Int(random.next() % UInt64(values.count))]
    }

    /// One contact's values: all fields, shaped like the customer's maximal sample row.
    public mutating func draft(index: Int) -> [ContactField: String] {
        var draft: [ContactField: String] = [:]
        let first = pick(Self.firstNames)
        let last = pick(Self.lastNames)
        let company = pick(Self.companies)
        draft[.firstName] = first
        draft[.lastName] = last
        draft[.organization] = company
        draft[.externalId] = String(100_000 + index)
        draft[.email] = "\(first.lowercased().asciiFolded).\(last.lowercased().asciiFolded)\(index)@example.cz"
        draft[.phone1] = phoneNumber()
        if random.next() % 2 == 0 { draft[.phone2] = phoneNumber() }
        draft[.agent1] = String(random.next() % 100)
        draft[.agent2] = String(100 + random.next() % 900)
        draft[.customField1] = pick(Self.importance)
        draft[.customField2] = pick(Self.lastNames)
        draft[.customField3] = pick(Self.teams)
        draft[.customField4] = String(random.next() % 1000)
        draft[.customField5] = String(random.next() % 100_000)
        draft[.customField6] = String(random.next() % 10_000)
        draft[.organizationUri] = "https://crm.example.cz/account/\(10_000 + index)"
        if random.next() % 4 == 0 { draft[.nameUri] = "https://crm.example.cz/person/\(index)" }
        return draft
    }

    /// A CSV file of `rows` contacts with every column, quoted as the customer's sample is.
    public mutating func csv(rows: Int, into output: (String) -> Void) {
        output(ContactCSV.header)
        for index in 0..<rows {
            let draft = draft(index: index)
            output(ContactCSV.line { draft[$0] ?? "" })
        }
    }
}

extension String {
    /// Czech letters without their diacritics, for synthetic email addresses.
    fileprivate var asciiFolded: String {
        let map: [Character: Character] = [
            "á": "a", "č": "c", "ď": "d", "é": "e", "ě": "e", "í": "i", "ň": "n", "ó": "o", "ř": "r", "š": "s",
            "ť": "t", "ú": "u", "ů": "u", "ý": "y", "ž": "z",
        ]
        return String(self.map { map[$0] ?? $0 })
    }
}
