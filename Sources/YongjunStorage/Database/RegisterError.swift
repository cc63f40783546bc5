import YongjunCore

/// A request to the register that cannot be carried out, with what to do about it.
public struct RegisterError: UserFacingError, Sendable, Equatable {
    public let description: String

    package init(_ description: String) {
        self.description = description
    }

    package static func cardNotFound(_ cardNo: String) -> RegisterError {
        RegisterError("no card with card number \(cardNo); check the number or import the card first")
    }

    package static func merchantNotFound(_ id: Int64) -> RegisterError {
        RegisterError("no merchant with id \(id); `yongjun merchants add` registers one")
    }
}
