import Foundation
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore: RecordsStore {}
