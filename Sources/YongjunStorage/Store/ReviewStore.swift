import Foundation
import YongjunCore

/// Shops' applications and the bureau's review batches (`yongjun applications …`, `yongjun batches …`), on either
/// store. Part of `AdminStore`.
public protocol ReviewStore: Sendable {}
