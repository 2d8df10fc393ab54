import Foundation
import StoreContract

/// The SQLite store's files are the owner's alone: the database holds the secret that signs popup
/// links and admin sessions, and the password and token hashes. Anyone who can read it can forge a
/// session for any user of any organization.
///
/// The data directory is created `0700` (an existing empty one is made so) and the database `0600`
/// whatever the umask; SQLite creates the `-wal` and `-shm` files with the database file's mode. A
/// directory with files in it, or a database file, that others can already read (a store made by
/// an older version, or by hand) is refused, with the command that fixes it: its secrets may have
/// been read, so a quiet repair would hide that.
package enum PrivateFiles {
    /// The permission bits of the group and of others.
    static let othersMask: mode_t = 0o077

    /// Creates `directory` (and its missing parents) as `0700`, or checks that an existing one
    /// keeps others out.
    package static func prepareDirectory(_ directory: String) throws {
        var info = stat()
        if stat(directory, &info) != 0 {
            guard errno == ENOENT else { throw failure("Cannot read the data directory '\(directory)': \(String(cString: strerror(errno))).") }
            // Parents as FileManager makes them; the store's own directory private from its first
            // moment (mkdir applies the umask, which can only take bits away from 0700).
            // (Not NSString's deletingLastPathComponent: this Foundation traps on a bare name, `--data d`.)
            let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            let parent = trimmed.lastIndex(of: "/").map { String(trimmed[..<$0]) } ?? ""
            if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw failure("Cannot create the data directory '\(directory)': \(String(cString: strerror(errno))).")
            }
            guard stat(directory, &info) == 0 else { throw failure("Cannot read the data directory '\(directory)'.") }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw failure("The data directory '\(directory)' is not a directory.") }
        // An empty directory made for the store (`mkdir data` under umask 022) has nothing to
        // expose yet: it is made private before anything is written in it. One with files in it is
        // never changed behind its owner's back.
        if info.st_mode & othersMask != 0, (try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true,
            chmod(directory, 0o700) == 0
        {
            info.st_mode &= ~othersMask
        }
        guard info.st_mode & othersMask == 0 else {
            throw readableByOthers(
                "The data directory '\(directory)'", mode: info.st_mode,
                fix: "chmod 700 '\(directory)' && chmod 600 '\(directory)'/caller-lookup.sqlite*")
        }
    }

    /// Creates the database file as `0600` when it does not exist yet, and refuses one (or its
    /// `-wal`, `-shm`) that others can read.
    package static func prepareDatabase(_ path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0 else { continue }
            guard info.st_mode & othersMask == 0 else {
                throw readableByOthers("The store file '\(file)'", mode: info.st_mode, fix: "chmod 600 '\(path)'*")
            }
        }
    }

    /// `-rw-r--r--`-style text of a mode's permission bits.
    static func modeText(_ mode: mode_t) -> String {
        let letters = Array("rwxrwxrwx")
        return String((0..<9).map { mode & (0o400 >> mode_t($0)) != 0 ? letters[$0] : "-" })
    }

    /// The refusal of a store `what` that others can read, with the command that fixes it.
    private static func readableByOthers(_ what: String, mode: mode_t, fix: String) -> ContactStoreError {
        failure(
            """
            \(what) can be read by other users of this machine (mode \(modeText(mode))); it holds the secret that signs \
            sessions and popup links, and password and token hashes. Run: \(fix) — and, since others could read it, \
            rotate the popup link (caller-lookup org popup-link --rotate) and replace the access tokens.
            """)
    }

    private static func failure(_ message: String) -> ContactStoreError {
        ContactStoreError(.invalidInput, message)
    }
}
