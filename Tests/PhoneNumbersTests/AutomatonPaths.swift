@testable import PhoneNumbers

extension DigitAutomaton {
    /// Digit strings of exactly `length` digits that pattern `pattern` matches in full, chosen so
    /// that together they take every transition lying on such a match: for every state reachable on
    /// a match of that length and every class of digits leading from it to one next state, one
    /// string goes through it (its digit drawn from the class by `random`, at a position drawn among
    /// those where the transition can occur). The rest of each string is completed with random
    /// digits that keep a match possible. Empty when the pattern matches no string of that length.
    ///
    /// This walks the branches of the pattern as its automaton sees them — each alternative, each
    /// count of a counted repeat that fits the length — which is what a differential test needs and
    /// random mutation of examples does not reach.
    ///
    /// Cost: O(states × 10 × length) to mark the live states, then O(length) per string.
    func coveringMatches(length: Int, pattern: Int = 0, random: inout SplitMix) -> [[UInt8]] {
        let bit: UInt16 = 1 << UInt16(pattern)
        let states = accepting.count
        func next(_ state: Int, _ symbol: Int) -> Int { Int(transitions[state * Self.stride + symbol]) }
        func accepts(_ state: Int) -> Bool {
            accepting[state] & bit != 0 || accepting[next(state, Self.endSymbol)] & bit != 0
        }
        guard length >= 0, states > 1 else { return [] }
        // finishes[k][s]: reading exactly k more digits from s can end in a match.
        var finishes = [[Bool]](repeating: [Bool](repeating: false, count: states), count: length + 1)
        for state in 1..<states { finishes[0][state] = accepts(state) }
        if length > 0 {
            for k in 1...length {
                for state in 1..<states {
                    finishes[k][state] = (0..<10).contains { digit in
                        let target = next(state, digit)
                        return target != 0 && finishes[k - 1][target]
                    }
                }
            }
        }
        let start = Int(Self.startState)
        guard finishes[length][start] else { return [] }
        // reachedFrom[k][s]: the state before s on one live path of k digits from the start (-1:
        // none), with the digit taken; only states from which a match of `length` is still possible.
        var reachedFrom = [[Int32]](repeating: [Int32](repeating: -1, count: states), count: length + 1)
        var reachedBy = [[UInt8]](repeating: [UInt8](repeating: 0, count: states), count: length + 1)
        reachedFrom[0][start] = 0
        for k in 0..<length {
            for state in 1..<states where reachedFrom[k][state] >= 0 {
                for digit in 0..<10 {
                    let target = next(state, digit)
                    guard target != 0, finishes[length - k - 1][target], reachedFrom[k + 1][target] < 0 else { continue }
                    reachedFrom[k + 1][target] = Int32(state)
                    reachedBy[k + 1][target] = UInt8(digit)
                }
            }
        }
        func prefix(reaching state: Int, after k: Int) -> [UInt8] {
            var digits = [UInt8](repeating: 0, count: k)
            var current = state
            for position in Swift.stride(from: k, to: 0, by: -1) {
                digits[position - 1] = reachedBy[position][current]
                current = Int(reachedFrom[position][current])
            }
            return digits
        }
        func completion(from state: Int, digits remaining: Int, random: inout SplitMix) -> [UInt8] {
            var digits: [UInt8] = []
            var current = state
            for left in Swift.stride(from: remaining, to: 0, by: -1) {
                let choices = (0..<10).filter { digit in
                    let target = next(current, digit)
                    return target != 0 && finishes[left - 1][target]
                }
                let digit = choices[random.below(choices.count)]
                digits.append(UInt8(digit))
                current = next(current, digit)
            }
            return digits
        }
        var result: [[UInt8]] = []
        for state in 1..<states {
            // The digits leaving `state`, grouped by the state they lead to.
            var classes: [Int: [Int]] = [:]
            for digit in 0..<10 where next(state, digit) != 0 { classes[next(state, digit), default: []].append(digit) }
            for (target, digits) in classes.sorted(by: { $0.key < $1.key }) {
                let positions = (0..<length).filter { k in reachedFrom[k][state] >= 0 && finishes[length - k - 1][target] }
                guard !positions.isEmpty else { continue }
                let k = positions[random.below(positions.count)]
                let digit = digits[random.below(digits.count)]
                result.append(
                    prefix(reaching: state, after: k) + [UInt8(digit)]
                        + completion(from: target, digits: length - k - 1, random: &random))
            }
        }
        if length == 0 { result.append([]) }
        return result
    }
}
