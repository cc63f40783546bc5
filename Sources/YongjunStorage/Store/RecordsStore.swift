import Foundation
import YongjunCore

/// The audit list and reseal, signing keys' audit entries, shops' benefit rules, receipts, and card codes and
/// printouts (`yongjun audit list|reseal`, `keys …`, `merchants benefits`, `receipts …`, `cards code|print`), on
/// either store. Part of `AdminStore`.
public protocol RecordsStore: Sendable {}
