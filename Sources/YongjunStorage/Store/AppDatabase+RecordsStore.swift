import Foundation
import YongjunCore

/// The methods live with their tables (AppDatabase+Audit, +AuditVerify, +Keys, +Benefits, +Histories, +StatusList,
/// +Cards); the admin CLI's synchronous calls witness the protocol's async ones.
extension AppDatabase: RecordsStore {}
