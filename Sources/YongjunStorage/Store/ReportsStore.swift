import Foundation
import YongjunCore

/// The bureau's reports (`yongjun reports …`, the year report), read from either store. Part of `AdminStore`.
public protocol ReportsStore: Sendable {}
