import Foundation
import YongjunCore

/// Reads an import file as text: UTF-8 (with or without BOM) or GB18030/GBK, detected or as `--encoding` says.
func readCSVFile(_ path: String, encoding name: String?) throws -> String {
    var encoding: TextEncoding?
    if let name {
        guard let chosen = TextEncoding(name: name) else {
            throw CLIFailure(message: "--encoding \(name) is not supported; use utf-8 or gb18030 (gbk)")
        }
        encoding = chosen
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure(message: "cannot read \(path): no such file or not readable")
    }
    guard let decoded = TextDecoding.decode(Array(data), as: encoding) else {
        let tried = encoding.map { $0.rawValue } ?? "UTF-8 or GB18030"
        throw CLIFailure(message: "\(path) is not \(tried) text; save it from Excel as \"CSV UTF-8\" or pass --encoding")
    }
    return decoded.text
}

/// Prints the problems of a refused import and fails with the summary line.
func refuseImport(_ path: String, _ problems: [ImportProblem]) -> CLIFailure {
    CLIFailure(
        message: "\(path): \(problems.count) bad line(s); nothing was imported. Fix them and run the import again.",
        details: problems.map { "\(path) \($0)" }
    )
}
