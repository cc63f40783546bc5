import Foundation
import YongjunCore

extension AppDatabase: ReportsStore {}
