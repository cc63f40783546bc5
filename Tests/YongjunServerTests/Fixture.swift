import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import YongjunCore
import YongjunServer
import YongjunStorage

/// A data directory with keys, a few cards and an active shop, and helpers to make codes and call the API.
struct Fixture {
    let directory: DataDirectory
    let database: AppDatabase
    let keyStore: KeyStore
    let signingKey: SigningKey
    let merchantID: Int64
    let apiKey: MerchantAPIKey

    static let holderName = "张小三"

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("yongjun-test-\(UUID().uuidString)").path
        directory = DataDirectory(path: path)
        try directory.prepare()
        keyStore = KeyStore(directory: directory)
        signingKey = try keyStore.initialize(now: Date())
        database = try AppDatabase.open(in: directory)
        let cards = CardImport.parse(
            """
            card_no,name,id_number,category,valid_until
            LZ0001,\(Self.holderName),\(Self.idNumber("44188219650312123")),veteran,2099-12-31
            LZ0002,李四,\(Self.idNumber("44188219700101456")),军属,2099-12-31
            LZ0003,王五,\(Self.idNumber("44188219550505789")),烈属,2020-01-31
            """
        )
        precondition(cards.problems.isEmpty, "\(cards.problems)")
        _ = try database.importCards(cards.cards, hasher: try keyStore.idNumberHasher(), now: Date())
        let merchant = try database.addMerchant(name: "老兵汽修", industry: .vehicleRepair, address: nil, benefit: "9折", now: Date())
        merchantID = merchant.id!
        var generator = SystemRandomNumberGenerator()
        apiKey = MerchantAPIKey.generate(using: &generator)
        try database.replaceMerchantKey(merchantID: merchantID, with: apiKey, now: Date())
    }

    static func idNumber(_ first17: String) -> String {
        first17 + String(ChineseIDNumber.checkCharacter(for: first17)!)
    }

    /// Another active shop with its own key.
    func addMerchant(name: String = "拥军饭店") throws -> (Int64, MerchantAPIKey) {
        let merchant = try database.addMerchant(name: name, industry: .catering, address: nil, benefit: nil, now: Date())
        var generator = SystemRandomNumberGenerator()
        let key = MerchantAPIKey.generate(using: &generator)
        try database.replaceMerchantKey(merchantID: merchant.id!, with: key, now: Date())
        return (merchant.id!, key)
    }

    func application(now: @escaping @Sendable () -> Date = { Date() }) throws -> some ApplicationProtocol {
        var settings = ServerSettings()
        settings.port = 0
        settings.pinHashRounds = 1000
        let keys = try KeyRingProvider(store: keyStore, issuer: settings.issuer, now: Date.distantPast)
        var logger = Logger(label: "yongjun-test")
        logger.logLevel = .warning
        return try buildApplication(settings: settings, dependencies: ServerDependencies(database: database, keys: keys, now: now), logger: logger)
    }

    /// A code for a card, signed with the data directory's current key unless another key is given.
    func code(card cardNo: String = "LZ0001", now: Date = Date(), lifetime: Int = 180, key: SigningKey? = nil) throws -> String {
        let card = try #require(try database.card(number: cardNo))
        var generator = SystemRandomNumberGenerator()
        return try CodeIssuer(key: key ?? signingKey, issuer: "yongjun").issue(for: card.codeSubject, now: now, lifetime: lifetime, using: &generator)
            .token
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory.path)
    }
}

/// What the API answered: status and the JSON object (empty when the body is not JSON).
struct APIAnswer: @unchecked Sendable {
    let status: HTTPResponse.Status
    let json: [String: Any]
    let headers: HTTPFields

    var valid: Bool? { json["valid"] as? Bool }
    var reason: String? { json["reason"] as? String }
    var error: String? { json["error"] as? String }
    var verificationID: String? { json["verificationId"] as? String }
}

extension TestClientProtocol {
    func verify(_ code: String, key: String?, nonce: String? = nil) async throws -> APIAnswer {
        var body: [String: String] = ["code": code]
        if let nonce { body["nonce"] = nonce }
        return try await post(body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self), key: key)
    }

    func post(body: String, key: String?, path: String = "/api/v1/verifications") async throws -> APIAnswer {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
            return APIAnswer(status: response.status, json: json, headers: response.headers)
        }
    }
}
