/// A deterministic finite automaton over the digits 0–9, compiled from up to 16 of libphonenumber's
/// regular expressions at once: one pass over a number tells which of them match it in full, and
/// which prefixes of it each one matches. The end anchor `$` is an eleventh symbol that can only be
/// read once the digits are exhausted.
///
/// The patterns libphonenumber uses for numbers are regular languages over digits — digits, `\d`,
/// classes, groups, alternation and bounded repeats — so an automaton answers exactly what ICU's
/// `FullMatch` and `Consume` (match at the start) answer, with one table read per digit.
/// Constructs whose meaning is not a plain language (`^`, possessive quantifiers, back-references,
/// unknown escapes) are refused at compile time, and the caller leaves those cases to libphonenumber.
struct DigitAutomaton: Sendable {
    /// `transitions[state * 11 + symbol]` is the next state (symbols 0–9 are digits, 10 is the end
    /// of the input); state 0 is the dead state. Internal so that tests can walk the automaton's
    /// paths to generate numbers.
    let transitions: [Int32]
    /// Bit `i` is set when pattern `i` matches the digits read so far in full.
    let accepting: [UInt16]
    /// How many capturing groups each pattern has.
    let capturingGroups: [Int]

    static let startState: Int32 = 1
    static let stride = 11
    static let endSymbol = 10

    var stateCount: Int { accepting.count }

    /// Compiles `patterns` (at most 16; an empty pattern matches nothing, as libphonenumber's
    /// matcher treats it). `nil` when a pattern uses a construct outside the supported set or the
    /// automaton would exceed `stateLimit` states.
    init?(patterns: [String], stateLimit: Int = 1 << 15) {
        precondition(patterns.count <= 16)
        var nfa = NFA()
        let start = nfa.addState()
        var groups: [Int] = []
        for (index, pattern) in patterns.enumerated() {
            guard !pattern.isEmpty else {
                groups.append(0)
                continue
            }
            var parser = PatternParser(Array(pattern.utf8))
            guard let node = parser.parse() else { return nil }
            groups.append(parser.capturingGroups)
            let entry = nfa.addState()
            nfa.addEpsilon(from: start, to: entry)
            let end = nfa.emit(node, from: entry)
            nfa.tags[Int(end)] |= 1 << UInt16(index)
        }
        guard let (transitions, accepting) = nfa.determinize(from: start, stateLimit: stateLimit) else { return nil }
        self.transitions = transitions
        self.accepting = accepting
        self.capturingGroups = groups
    }

    /// The patterns that match `digits` (values 0–9) in full, as a bit set.
    @inline(__always)
    func fullMatches(_ digits: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var state = Self.startState
        for digit in digits {
            state = transitions[Int(state) &* Self.stride &+ Int(digit)]
            if state == 0 { return 0 }
        }
        return accepting[Int(state)] | accepting[Int(transitions[Int(state) &* Self.stride &+ Self.endSymbol])]
    }

    /// Which prefixes of `digits` pattern `pattern` matches in full: whether the empty one does,
    /// how many non-empty ones do, and the length of the shortest non-empty one.
    func prefixMatches(_ digits: UnsafeBufferPointer<UInt8>, pattern: Int = 0) -> PrefixMatches {
        let bit: UInt16 = 1 << UInt16(pattern)
        func accepts(_ state: Int32, atEnd: Bool) -> Bool {
            if accepting[Int(state)] & bit != 0 { return true }
            return atEnd && accepting[Int(transitions[Int(state) &* Self.stride &+ Self.endSymbol])] & bit != 0
        }
        var state = Self.startState
        var result = PrefixMatches(empty: accepts(state, atEnd: digits.isEmpty), nonEmptyCount: 0, shortestNonEmpty: 0)
        for (offset, digit) in digits.enumerated() {
            state = transitions[Int(state) &* Self.stride &+ Int(digit)]
            if state == 0 { break }
            if accepts(state, atEnd: offset + 1 == digits.count) {
                if result.nonEmptyCount == 0 { result.shortestNonEmpty = offset + 1 }
                result.nonEmptyCount += 1
            }
        }
        return result
    }
}

/// The prefixes of a number that a pattern matches (see `DigitAutomaton.prefixMatches`).
struct PrefixMatches: Equatable {
    var empty: Bool
    var nonEmptyCount: Int
    var shortestNonEmpty: Int

    /// Whether a match at the start exists at all (what `Consume` answers).
    var any: Bool { empty || nonEmptyCount > 0 }
}

/// A parsed pattern: sets of digits combined by concatenation, alternation and repetition.
private indirect enum PatternNode {
    /// One symbol out of a set (bit `d` for digit `d`, bit 10 for the end of input); an empty set
    /// matches nothing.
    case digits(UInt16)
    case sequence([PatternNode])
    case alternation([PatternNode])
    /// `maximum == nil`: unbounded.
    case repetition(PatternNode, minimum: Int, maximum: Int?)
}

/// A recursive-descent reader of the regular-expression subset libphonenumber's metadata uses.
private struct PatternParser {
    let bytes: [UInt8]
    var position = 0
    var capturingGroups = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() -> PatternNode? {
        guard let node = alternation(), position == bytes.count else { return nil }
        return node
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func alternation() -> PatternNode? {
        var branches: [PatternNode] = []
        while true {
            guard let branch = sequence() else { return nil }
            branches.append(branch)
            guard current == UInt8(ascii: "|") else { break }
            position += 1
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() -> PatternNode? {
        var items: [PatternNode] = []
        while let byte = current, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            guard let atom = atom(), let item = quantified(atom) else { return nil }
            items.append(item)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func atom() -> PatternNode? {
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .digits(1 << UInt16(byte - UInt8(ascii: "0")))
        case UInt8(ascii: "\\"):
            guard let escaped = current else { return nil }
            position += 1
            switch escaped {
            case UInt8(ascii: "d"): return .digits(0x3FF)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return nil  // back-references
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return nil
            default: return .digits(0)  // an escaped punctuation character: never a digit
            }
        case UInt8(ascii: "["):
            return characterClass()
        case UInt8(ascii: "("):
            if current == UInt8(ascii: "?") {
                guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ":") else { return nil }
                position += 2
            } else {
                capturingGroups += 1
            }
            guard let inner = alternation(), current == UInt8(ascii: ")") else { return nil }
            position += 1
            return inner
        case UInt8(ascii: "$"):
            return .digits(1 << UInt16(DigitAutomaton.endSymbol))
        case UInt8(ascii: "^"), UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
            return nil
        default:
            // Any other literal character (`~`, letters) never matches a digit.
            return byte < 0x80 ? .digits(0) : nil
        }
    }

    private mutating func characterClass() -> PatternNode? {
        var negated = false
        if current == UInt8(ascii: "^") {
            negated = true
            position += 1
        }
        var set: UInt16 = 0
        var first = true
        while let byte = current, byte != UInt8(ascii: "]") || first {
            first = false
            position += 1
            var low: UInt16
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): low = UInt16(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "\\"):
                guard current == UInt8(ascii: "d") else { return nil }
                position += 1
                set |= 0x3FF
                continue
            case UInt8(ascii: "["), UInt8(ascii: "]"): return nil
            default:
                guard byte < 0x80 else { return nil }
                // A non-digit member (`-` alone, `~`): it adds nothing over digits.
                if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                    return nil
                }
                continue
            }
            if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                let high = bytes[position + 1]
                guard high >= UInt8(ascii: "0"), high <= UInt8(ascii: "9"), UInt16(high - UInt8(ascii: "0")) >= low else {
                    return nil
                }
                position += 2
                while low <= UInt16(high - UInt8(ascii: "0")) {
                    set |= 1 << low
                    low += 1
                }
            } else {
                set |= 1 << low
            }
        }
        guard current == UInt8(ascii: "]") else { return nil }
        position += 1
        return .digits(negated ? ~set & 0x3FF : set)
    }

    private mutating func quantified(_ atom: PatternNode) -> PatternNode? {
        var node = atom
        while let byte = current {
            let minimum: Int
            let maximum: Int?
            switch byte {
            case UInt8(ascii: "?"): (minimum, maximum) = (0, 1)
            case UInt8(ascii: "*"): (minimum, maximum) = (0, nil)
            case UInt8(ascii: "+"): (minimum, maximum) = (1, nil)
            case UInt8(ascii: "{"):
                guard let bounds = bounds() else { return nil }
                (minimum, maximum) = bounds
                node = .repetition(node, minimum: minimum, maximum: maximum)
                if !lazyOrPossessive() { return nil }
                continue
            default:
                return node
            }
            position += 1
            node = .repetition(node, minimum: minimum, maximum: maximum)
            if !lazyOrPossessive() { return nil }
        }
        return node
    }

    /// Skips a lazy `?` (same language); refuses a possessive `+`, which can change the language.
    private mutating func lazyOrPossessive() -> Bool {
        if current == UInt8(ascii: "?") {
            position += 1
        } else if current == UInt8(ascii: "+") {
            return false
        }
        return true
    }

    private mutating func bounds() -> (Int, Int?)? {
        position += 1
        func number() -> Int? {
            var value: Int?
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value = (value ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
                guard value! <= 64 else { return nil }
                position += 1
            }
            return value
        }
        guard let minimum = number() else { return nil }
        var maximum: Int? = minimum
        if current == UInt8(ascii: ",") {
            position += 1
            maximum = number()
            if let maximum, maximum < minimum { return nil }
        }
        guard current == UInt8(ascii: "}") else { return nil }
        position += 1
        return (minimum, maximum)
    }
}

/// A nondeterministic automaton built by Thompson's construction, then determinized.
private struct NFA {
    var epsilons: [[Int32]] = []
    var edges: [[(digits: UInt16, target: Int32)]] = []
    var tags: [UInt16] = []

    mutating func addState() -> Int32 {
        epsilons.append([])
        edges.append([])
        tags.append(0)
        return Int32(tags.count - 1)
    }

    mutating func addEpsilon(from: Int32, to: Int32) {
        epsilons[Int(from)].append(to)
    }

    /// Adds the states of `node` after `from` and returns the state reached at its end.
    mutating func emit(_ node: PatternNode, from: Int32) -> Int32 {
        switch node {
        case .digits(let set):
            let end = addState()
            if set != 0 { edges[Int(from)].append((set, end)) }
            return end
        case .sequence(let items):
            var state = from
            for item in items { state = emit(item, from: state) }
            return state
        case .alternation(let branches):
            let end = addState()
            for branch in branches {
                let entry = addState()
                addEpsilon(from: from, to: entry)
                addEpsilon(from: emit(branch, from: entry), to: end)
            }
            return end
        case .repetition(let inner, let minimum, let maximum):
            var state = from
            for _ in 0..<minimum {
                let entry = addState()
                addEpsilon(from: state, to: entry)
                state = emit(inner, from: entry)
            }
            guard let maximum else {
                let loop = addState()
                addEpsilon(from: state, to: loop)
                addEpsilon(from: emit(inner, from: loop), to: loop)
                return loop
            }
            if maximum == minimum { return state }
            let end = addState()
            for _ in minimum..<maximum {
                addEpsilon(from: state, to: end)
                let entry = addState()
                addEpsilon(from: state, to: entry)
                state = emit(inner, from: entry)
            }
            addEpsilon(from: state, to: end)
            return end
        }
    }

    /// Subset construction. State 0 of the result is the dead state, state 1 the start.
    func determinize(from start: Int32, stateLimit: Int) -> ([Int32], [UInt16])? {
        var stamp = [Int](repeating: -1, count: tags.count)
        var generation = 0
        var stack: [Int32] = []
        func closure(_ seeds: [Int32]) -> [Int32] {
            generation += 1
            var result: [Int32] = []
            stack.removeAll(keepingCapacity: true)
            for seed in seeds where stamp[Int(seed)] != generation {
                stamp[Int(seed)] = generation
                stack.append(seed)
            }
            while let state = stack.popLast() {
                result.append(state)
                for next in epsilons[Int(state)] where stamp[Int(next)] != generation {
                    stamp[Int(next)] = generation
                    stack.append(next)
                }
            }
            result.sort()
            return result
        }
        var ids: [[Int32]: Int32] = [[]: 0]
        var sets: [[Int32]] = [[]]
        var transitions = [Int32](repeating: 0, count: DigitAutomaton.stride)
        var accepting: [UInt16] = [0]
        let first = closure([start])
        ids[first] = 1
        sets.append(first)
        var next = 1
        while next < sets.count {
            let set = sets[next]
            var tag: UInt16 = 0
            for state in set { tag |= tags[Int(state)] }
            accepting.append(tag)
            transitions.append(contentsOf: repeatElement(0, count: DigitAutomaton.stride))
            for symbol in 0..<DigitAutomaton.stride {
                let bit: UInt16 = 1 << UInt16(symbol)
                var seeds: [Int32] = []
                for state in set {
                    for edge in edges[Int(state)] where edge.digits & bit != 0 { seeds.append(edge.target) }
                }
                guard !seeds.isEmpty else { continue }
                let target = closure(seeds)
                let id: Int32
                if let known = ids[target] {
                    id = known
                } else {
                    guard sets.count < stateLimit else { return nil }
                    id = Int32(sets.count)
                    ids[target] = id
                    sets.append(target)
                }
                transitions[next * DigitAutomaton.stride + symbol] = id
            }
            next += 1
        }
        return (transitions, accepting)
    }
}
