public import Contacts
import Foundation
public import PhoneNumbers
public import StoreContract

extension SQLiteStore {
    /// Imports a CSV file (replace-all) and returns the contract's report.
    ///
    /// The file is read and checked on a second thread (`ImportReader`) while this thread writes
    /// each window of accepted contacts inside the import's one transaction: a 20 MB file is read,
    /// checked and written in about the time each step alone would take. A refused file rolls the
    /// transaction back and throws the `ImportRejection`; nothing changes. A `dryRun` does all of
    /// it, reports it, and rolls it back.
    public func importContacts(
        _ source: ImportSource, organizationID: Int64, validator: PhoneNumberValidator, options: ImportOptions = ImportOptions()
    ) throws -> ImportReport {
        let reader = ImportReader(source, validator: validator)
        // The pass over every row filled the writer's page cache (64 MiB): hand it back.
        defer { try? withDatabase { $0.releaseCache() } }
        return try reader.report(Result { try replaceAll(organizationID: organizationID, options: options, nextBatch: reader.next) })
    }

    /// A CSV file of the import contract, replace-all.
    public func importContacts(
        csv bytes: [UInt8], organizationID: Int64, validator: PhoneNumberValidator, dryRun: Bool = false
    ) throws -> ImportReport {
        try importContacts(.csv(bytes), organizationID: organizationID, validator: validator, options: ImportOptions(dryRun: dryRun))
    }
}
