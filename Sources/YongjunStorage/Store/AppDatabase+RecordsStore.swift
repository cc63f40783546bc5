import Foundation
import YongjunCore

extension AppDatabase: RecordsStore {}
