#if canImport(Glibc)
import Glibc
#endif

/// An immutable run of elements an index reads in place: the storage of an array built in this
/// process, or a section of a mapped index file (`IndexFile`). The tables hold slabs, not arrays,
/// so that a snapshot read from disk is used where the kernel mapped it — nothing is copied or
/// decoded at start — and one built here costs nothing more than its array.
///
/// A slab keeps what backs it alive (the array's storage, or the mapping); reads go through
/// `withUnsafeBytes`/`withUnsafeBufferPointer`, which hold that owner for their duration.
struct Slab<Element: BitwiseCopyable>: @unchecked Sendable {
    private let base: UnsafePointer<Element>
    let count: Int
    private let owner: AnyObject

    /// The array's own storage, not a copy.
    init(_ array: [Element]) {
        let box = ArrayStorage(array)
        owner = box
        base = box.base
        count = array.count
    }

    /// `count` elements at `offset` bytes into `mapping` (aligned for `Element`).
    init(_ mapping: MappedFile, offset: Int, count: Int) {
        precondition(offset % MemoryLayout<Element>.alignment == 0, "a slab's offset must be aligned")
        owner = mapping
        base = (mapping.base + offset).assumingMemoryBound(to: Element.self)
        self.count = count
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "index out of range")
        return withExtendedLifetime(owner) { base[index] }
    }

    @inline(__always)
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    @inline(__always)
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) {
            try body(UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: count * MemoryLayout<Element>.stride))
        }
    }

    /// `count` elements from `start`, copied.
    func copy(start: Int, count: Int) -> [Element] {
        precondition(start >= 0 && count >= 0 && start + count <= self.count, "range out of bounds")
        return withUnsafeBufferPointer { Array($0[start..<(start + count)]) }
    }

    var byteCount: Int { count * MemoryLayout<Element>.stride }

    /// Whether the slab lives in a mapped file (its pages are the page cache's, not the heap's).
    var isMapped: Bool { owner is MappedFile }
}

/// Holds an array immutably so that its storage's address stays valid as long as it lives.
private final class ArrayStorage<Element: BitwiseCopyable>: @unchecked Sendable {
    let array: [Element]
    let base: UnsafePointer<Element>

    init(_ array: [Element]) {
        self.array = array
        // Never dereferenced when the array is empty; any aligned address will do then.
        base = array.withUnsafeBufferPointer { $0.baseAddress }
            ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

/// A file mapped read-only into memory, unmapped when the last slab over it goes.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer
    let size: Int

    /// Maps the whole of the open `descriptor` (`size` bytes, at least one).
    init?(descriptor: Int32, size: Int) {
        guard size > 0, let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), pointer != MAP_FAILED else {
            return nil
        }
        base = UnsafeRawPointer(pointer)
        self.size = size
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}
