import Hummingbird

/// An API answer that is not 200: a stable machine-readable `error` code and a Chinese `message` for people.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Seconds to wait, sent as Retry-After and in the body.
    var retryAfter: Int?

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var json = JSONText()
        json.add("error", code)
        json.add("message", message)
        if let retryAfter { json.add("retryAfterSeconds", String(retryAfter)) }
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="yongjun""# }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json.string)))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "bad_request", message: message)
    }

    init(status: HTTPResponse.Status, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// Every way a verification can fail to get a 200, for the API and the cashier page alike.
    init(_ failure: VerificationFailure) {
        switch failure {
        case .refused(let refusal): self.init(refusal)
        case .throttled(let seconds):
            self.init(
                status: .tooManyRequests,
                code: VerificationService.Refusal.tooManyGuesses.rawValue,
                message: "无效数字码过多，请 \((seconds + 59) / 60) 分钟后再试，或改用扫码",
                retryAfter: seconds
            )
        case .unavailable:
            self.init(
                status: .serviceUnavailable,
                code: "unavailable",
                message: "核验记录暂时无法保存，请稍后用同一 nonce 重试（本次未核验）",
                retryAfter: 1
            )
        }
    }

    init(_ refusal: VerificationService.Refusal) {
        switch refusal {
        case .missingKey:
            self.init(status: .unauthorized, code: refusal.rawValue, message: "缺少商户密钥：请在请求头加上 Authorization: Bearer <商户密钥>")
        case .unknownKey:
            self.init(status: .unauthorized, code: refusal.rawValue, message: "商户密钥无效或已更换，请联系退役军人事务局")
        case .merchantSuspended:
            self.init(status: .forbidden, code: refusal.rawValue, message: "该商户已暂停合作，暂不能核验优待证")
        case .merchantRevoked:
            self.init(status: .forbidden, code: refusal.rawValue, message: "该商户已取消合作资格（非合作商户），不能核验优待证")
        case .tooManyGuesses:
            self.init(status: .tooManyRequests, code: refusal.rawValue, message: "无效数字码过多，请十分钟后再试或改用扫码")
        }
    }
}
