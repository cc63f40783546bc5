import Foundation
import YongjunCore

extension AppDatabase: ReviewStore {}
