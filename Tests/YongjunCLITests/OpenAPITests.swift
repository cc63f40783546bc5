import Foundation
import Testing

@Suite("openapi.yaml: a valid description, served as is, and true of the running server", .timeLimit(.minutes(5)))
struct OpenAPITests {
    static let specPath = CLI.packageRoot.appendingPathComponent("openapi.yaml").path

    @Test("openapi.yaml passes openapi-spec-validator")
    func specIsValid() throws {
        let result = try runTool(["openapi-spec-validator", Self.specPath])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("GET /openapi.yaml answers the repository's openapi.yaml byte for byte, to anyone, as YAML")
    func servedDocumentIsTheFile() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let reply = try await server.client.send("GET", "/openapi.yaml")
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/yaml; charset=utf-8")
        let file = try Data(contentsOf: URL(fileURLWithPath: Self.specPath))
        let served = Data(reply.body.utf8)
        // A Bool, not the bytes: a failure should say what to do, not print 40 kB of numbers.
        let identical = served == file
        #expect(
            identical,
            "served \(served.count) bytes differ from openapi.yaml's \(file.count): is Sources/YongjunServer/OpenAPI/openapi.yaml still a link to it?"
        )
    }

    @Test("real answers schemathesis cannot reach (a valid code, a 9-digit number, a revoked card, a suspended shop) match openapi.yaml")
    func realAnswersMatchTheirSchemas() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        try cli.run("merchants", "add", "--name", "拥军饭店", "--industry", "catering", "--address", "连州市中山路1号", "--benefit", "凭优待证享9折")
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let client = server.client
        var answers: [(path: String, method: String, reply: HTTPReply)] = []
        func record(_ path: String, _ method: String, _ reply: HTTPReply, _ status: Int) {
            #expect(reply.status == status, "\(method) \(path): \(reply.body)")
            answers.append((path, method, reply))
        }
        let bearer = ["Authorization": "Bearer \(key)"]
        for card in ["LZ0001", "LZ0002"] {
            let code = try cli.run("cards", "activation", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let reply = try await client.json("/api/v1/holder/activate", ["cardNo": card, "activationCode": code, "pin": "402817"])
            record("/api/v1/holder/activate", "post", reply, 200)
        }
        let signIn = try await client.json("/api/v1/holder/session", ["cardNo": "LZ0001", "pin": "402817"])
        record("/api/v1/holder/session", "post", signIn, 200)
        let cookie = ["Cookie": "yj_session=\(try #require(signIn.cookieValue("yj_session")))"]
        for _ in 0..<2 {
            let issued = try await client.send("GET", "/api/v1/holder/code", headers: cookie)
            record("/api/v1/holder/code", "get", issued, 200)
            let code = try #require(issued.json["code"] as? String)
            record("/api/v1/verifications", "post", try await client.verify(code, key: key), 200)
            record("/api/v1/verifications", "post", try await client.verify(code, key: key), 200)
            record("/api/v1/verifications", "post", try await client.verify(try #require(issued.json["shortCode"] as? String), key: key), 200)
        }
        #expect(answers.compactMap { $0.reply.json["valid"] as? Bool } == [true, false, false, true, false, false])
        #expect(try await client.form("/shop/login", page: "/shop", fields: ["key": key]).status == 303)
        record("/api/v1/shop/devices", "get", try await client.send("GET", "/api/v1/shop/devices", headers: bearer), 200)
        record("/api/v1/shop/devices/{id}", "delete", try await client.send("DELETE", "/api/v1/shop/devices/1", headers: bearer), 204)
        record("/api/v1/shop/devices", "get", try await client.send("GET", "/api/v1/shop/devices", headers: bearer), 200)
        record("/api/v1/merchants", "get", try await client.send("GET", "/api/v1/merchants"), 200)
        record("/.well-known/jwks.json", "get", try await client.send("GET", "/.well-known/jwks.json"), 200)
        try await recordOfflineAnswers(client, cookie: cookie, bearer: bearer, record)
        try cli.run("cards", "revoke", "LZ0002", "--reason", "测试")
        let revoked = try await client.json("/api/v1/holder/session", ["cardNo": "LZ0002", "pin": "402817"])
        record("/api/v1/holder/session", "post", revoked, 403)
        try cli.run("merchants", "suspend", "1", "--reason", "测试")
        record("/api/v1/verifications", "post", try await client.verify("eyJ.e30.sig", key: key), 403)
        let checked = try runTool(["python3", "-c", Self.conformanceScript, Self.specPath, try Self.jsonText(answers)])
        #expect(checked.status == 0, "\(checked.output)")
    }

    /// The status list (200, then 304), a snapshot, and an upload accepted, repeated (duplicate) and rejected.
    func recordOfflineAnswers(
        _ client: HTTPClient,
        cookie: [String: String],
        bearer: [String: String],
        _ record: (String, String, HTTPReply, Int) -> Void
    ) async throws {
        let list = try await client.send("GET", "/api/v1/status-list")
        record("/api/v1/status-list", "get", list, 200)
        let etag = try #require(list.headers["etag"])
        record("/api/v1/status-list", "get", try await client.send("GET", "/api/v1/status-list", headers: ["If-None-Match": etag]), 304)
        record("/api/v1/shop/snapshot", "get", try await client.send("GET", "/api/v1/shop/snapshot", headers: bearer), 200)
        let code = try #require(try await client.send("GET", "/api/v1/holder/code", headers: cookie).json["code"] as? String)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let good = #"{"code":"\#(code)","nonce":"dev1-1","verifiedAt":"\#(formatter.string(from: Date()))","result":"valid"}"#
        let bad = #"{"code":"\#(code)","nonce":"dev1-2","verifiedAt":"yesterday","result":"valid"}"#
        for records in [good, good + "," + bad] {
            let headers = bearer.merging(["Content-Type": "application/json"]) { $1 }
            let upload = try await client.send("POST", "/api/v1/verifications/offline", headers: headers, body: #"{"records":[\#(records)]}"#)
            record("/api/v1/verifications/offline", "post", upload, 200)
            let statuses = (upload.json["results"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
            #expect(statuses == (records == good ? ["accepted"] : ["duplicate", "rejected"]), "\(upload.body)")
        }
    }

    /// `[[path, method, status, content type, body], …]` for `conformanceScript`.
    static func jsonText(_ answers: [(path: String, method: String, reply: HTTPReply)]) throws -> String {
        let rows = answers.map { [$0.path, $0.method, String($0.reply.status), $0.reply.headers["content-type"] ?? "", $0.reply.body] }
        return String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
    }

    /// Checks each answer's body against the schema openapi.yaml gives for its operation, status and media type.
    static let conformanceScript = """
        import json, sys, yaml
        from openapi_schema_validator import OAS31Validator
        spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
        def resolve(node):
            while isinstance(node, dict) and "$ref" in node:
                target = spec
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
                node = target
            return node
        failures = []
        for path, method, status, media, body in json.loads(sys.argv[2]):
            response = resolve(spec["paths"][path][method]["responses"].get(status))
            if response is None:
                failures.append(f"{method} {path}: {status} is not described")
                continue
            content = response.get("content", {})
            if not body and not content:
                continue
            media = media.split(";")[0].strip()
            if media not in content:
                failures.append(f"{method} {path} {status}: {media!r} is not described")
                continue
            document = dict(spec, **{"x-check": content[media]["schema"], "$ref": "#/x-check"})
            instance = json.loads(body) if media.endswith("json") else body
            for error in OAS31Validator(document).iter_errors(instance):
                failures.append(f"{method} {path} {status}: {error.message} in {body[:300]}")
        print("\\n".join(failures) or "all answers match")
        sys.exit(1 if failures else 0)
        """

    @Test("schemathesis finds no server error, and every status, header and body the server sends is in openapi.yaml")
    func schemathesisAgainstTheBinary() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        // The rate limiters would answer 429 to a burst; they are tested elsewhere, here they only add noise.
        let server = try ServerProcess(cli: cli, extraArguments: ["--rate-limit", "0", "--form-rate-limit", "0"])
        defer { _ = server.stop() }
        let session = try await cli.activateHolder("LZ0001", pin: "402817", on: server.client)
        // A signed-in cashier device, so the device list has an entry to check and the example id 1 can be signed out.
        let device = try await server.client.form("/shop/login", page: "/shop", fields: ["key": key])
        #expect(device.status == 303, "\(device.body)")
        let started = ContinuousClock.now
        let run = try runTool(
            [
                "-C", cli.workDirectory, "st", "run", Self.specPath,
                "--url", server.baseURL.absoluteString,
                "--header", "Authorization: Bearer \(key)",
                "--header", "Cookie: yj_session=\(session)",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", "150",
                "--workers", "1",
                "--seed", "20261129",
                "--generation-database", "none",
                "--request-timeout", "10",
                "--no-color",
            ],
            environment: ["SCHEMATHESIS_TELEMETRY": "false"]
        )
        let elapsed = ContinuousClock.now - started
        #expect(run.status == 0, "schemathesis (scripts/install-deps --test installs it) failed after \(elapsed):\n\(run.output)")
        // Every operation was tested: "Selected: 13/13" then "Tested: 13".
        let selected = try #require(run.output.firstMatch(of: /Selected: (\d+)\/(\d+)/))
        #expect(selected.output.1 == selected.output.2, "\(run.output)")
        #expect(run.output.contains("Tested: \(selected.output.1)\n"), "\(run.output)")
    }
}
