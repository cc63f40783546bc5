import Foundation
import YongjunCore

/// The reports on SQLite are `AppDatabase+Reports.swift` and `+YearReport.swift`, read in one snapshot each.
extension AppDatabase: ReportsStore {}
