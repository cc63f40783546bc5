/// An error whose description is written for the person at the keyboard: what went wrong and what to do.
/// The CLI prints it as-is; anything else is treated as internal.
public protocol UserFacingError: Error, CustomStringConvertible {}
