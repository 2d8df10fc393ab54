#include <sqlite3.h>

/// Turns off SQLite's memory statistics, which take a global mutex on every allocation (a few
/// per cent of a bulk import). Must run before the first connection opens; SQLITE_MISUSE after.
/// sqlite3_config is variadic, so Swift cannot call it directly.
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
