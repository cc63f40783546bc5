import Foundation
import YongjunCore

/// The methods live with their tables (AppDatabase+Applications, +Review, +Batches, +Approval): the admin CLI's
/// synchronous, audited writes, which satisfy the protocol's async requirements as they are.
extension AppDatabase: ReviewStore {}
