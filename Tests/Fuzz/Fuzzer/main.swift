import FuzzHarness

#if canImport(Glibc)
import Glibc
#endif

// The libFuzzer driver for all targets; `FUZZ_TARGET` (csv, normalizer, number-plan, json) chooses
// one, the arguments are libFuzzer's. Built only by `scripts/reliability/fuzz.sh`
// (`CALLER_LOOKUP_FUZZ=1 swift build -Xswiftc -sanitize=fuzzer,address`), which links libFuzzer.

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
guard let chosen = FuzzHarness.Target(rawValue: name) else {
    print("Set FUZZ_TARGET to one of: \(FuzzHarness.Target.allCases.map(\.rawValue).joined(separator: ", ")).")
    exit(64)
}
nonisolated(unsafe) var target = chosen

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let problem = FuzzHarness.run(target, bytes) {
        fatalError("\(target.rawValue): \(problem)")
    }
    return 0
})
