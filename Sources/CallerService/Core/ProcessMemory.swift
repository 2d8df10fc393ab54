#if os(Linux)
import CMalloc
#endif

/// Keeps a server's resident memory near what it holds rather than at its largest upload's peak
/// (measured by scripts/reliability/soak.sh: 200 uploads of 10 MB held about 370 MB before,
/// 120–140 MB with this).
///
/// glibc keeps memory its threads freed in their arenas, and after a large block is freed it raises
/// its mmap threshold, so the next 10 MB request body comes from the heap and stays there. So:
/// * blocks of 1 MiB and more are always mapped on their own and unmapped when freed (a fixed
///   `M_MMAP_THRESHOLD`, which also stops the dynamic raise);
/// * after an import, `malloc_trim` hands back what the import's threads freed.
enum ProcessMemory {
    /// Once per process, before serving.
    static let configured: Void = {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }()

    /// After a large import.
    static func releaseFreed() {
        #if os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}
