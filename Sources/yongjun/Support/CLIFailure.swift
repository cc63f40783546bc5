/// A command failed: `details` (e.g. every bad line of an import) then a one-line `message` go to stderr.
struct CLIFailure: Error {
    var message: String
    var details: [String] = []
    var exitCode: Int32 = 1
}
