/// libphonenumber's number types, named as its JSON users know them.
public enum PhoneNumberType: Int32, Sendable, CaseIterable {
    case fixedLine = 0
    case mobile
    case fixedLineOrMobile
    case tollFree
    case premiumRate
    case sharedCost
    case voip
    case personalNumber
    case pager
    case uan
    case voicemail
    case unknown

    /// The name used in JSON answers: `FIXED_LINE`, `MOBILE`, … as libphonenumber spells them.
    public var name: String {
        switch self {
        case .fixedLine: "FIXED_LINE"
        case .mobile: "MOBILE"
        case .fixedLineOrMobile: "FIXED_LINE_OR_MOBILE"
        case .tollFree: "TOLL_FREE"
        case .premiumRate: "PREMIUM_RATE"
        case .sharedCost: "SHARED_COST"
        case .voip: "VOIP"
        case .personalNumber: "PERSONAL_NUMBER"
        case .pager: "PAGER"
        case .uan: "UAN"
        case .voicemail: "VOICEMAIL"
        case .unknown: "UNKNOWN"
        }
    }
}
