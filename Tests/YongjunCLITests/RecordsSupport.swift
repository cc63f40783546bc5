import Foundation
import Testing

/// Runs SQL on a data directory's database with the sqlite3 tool, as someone with shell access would.
@discardableResult
func tamper(_ cli: CLI, _ sql: String, database: String? = nil) throws -> String {
    let result = try runTool(["sqlite3", database ?? cli.dataDirectory + "/yongjun.sqlite", sql])
    #expect(result.status == 0, "sqlite3 failed: \(result.output)")
    return result.output
}

/// A copy of `cli`'s data directory in a fresh work folder, to tamper with one way per copy.
func copyOf(_ cli: CLI) throws -> CLI {
    let copy = try CLI()
    try FileManager.default.copyItem(atPath: cli.dataDirectory, toPath: copy.dataDirectory)
    return copy
}

/// The `/apply` form over HTTP with its CSRF cookie, as a browser submits it.
struct ApplyForm {
    let server: ServerProcess
    let jar: String

    init(server: ServerProcess, cli: CLI) {
        self.server = server
        self.jar = cli.workDirectory + "/apply-cookies-\(UUID().uuidString)"
    }

    /// Submits the form and returns the HTTP status and page.
    func submit(_ fields: [String: String]) throws -> (status: Int, page: String) {
        let url = server.baseURL.absoluteString + "/apply"
        _ = try runTool(["curl", "-s", "-c", jar, "-b", jar, url])
        let cookies = (try? String(contentsOfFile: jar, encoding: .utf8)) ?? ""
        let csrf = cookies.split(separator: "\n").first { $0.contains("yj_csrf") }?.split(separator: "\t").last.map(String.init) ?? ""
        var arguments = ["curl", "-s", "-c", jar, "-b", jar, "-w", "\n%{http_code}"]
        for (name, value) in fields.merging(["csrf": csrf], uniquingKeysWith: { $1 }) { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        let output = try runTool(arguments + [url], includeErrors: false).output
        let status = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (status, String(output.dropLast(String(status).count)))
    }

    static func fields(shop: String, code: String, contact: String = "王经理", phone: String = "13800138000") -> [String: String] {
        [
            "shopName": shop, "creditCode": code, "industry": "catering", "address": "连州市中山路8号", "contact": contact, "phone": phone,
            "benefit": "凭优待证享9折",
        ]
    }
}
