extension Assets {
    /// Served at /assets/offline-verify.js: the offline verdict of docs/offline.md (snapshot and status-list signatures,
    /// clock guard, the code's signature, claims, validity window and status entry), ported from Sources/YongjunVerifier.
    static let offlineVerifyScript = #"""
        // The offline verdict of docs/offline.md, ported rule for rule from Sources/YongjunVerifier (CompactJWS,
        // CodeVerifier, CodeClaims, CodeUse, StatusList, ShopSnapshot, OfflineVerifier), so a device answers as the server.
        "use strict";
        (function (global) {
          const utf8 = new TextEncoder();
          const text = new TextDecoder("utf-8", { fatal: true });
          const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
          const earliestTime = 946684800, latestTime = 7258118400, longestLifetime = 3653 * 86400, chinaOffset = 8 * 3600;
          const codeLength = 2048, listLength = 8 << 20, snapshotLength = (8 << 20) + 65536, listBytes = 1 << 24;
          const categories = {
            active_duty: "现役军人", veteran: "退役军人", disabled_serviceman: "残疾军人", military_family: "军属", martyr_family: "烈属",
            duty_death_family: "因公牺牲军人遗属", illness_death_family: "病故军人遗属", other_entitled: "其他优抚对象",
          };
          // VerificationReason.message; the two sync_required texts are docs/offline.md's.
          const messages = {
            malformed: "无法识别的码，请让持证人重新出示",
            bad_signature: "验证失败：码不是拥军平台签发的",
            unknown_key: "验证失败：签发密钥未知，请让持证人刷新后重新出示",
            expired: "码已过期，请让持证人刷新后重新出示",
            not_yet_valid: "码尚未生效，请核对设备时间后重试",
            card_revoked: "证件已注销，不能享受优待",
            card_expired: "证件已过有效期，不能享受优待",
            unknown_card: "未找到该证件，请联系退役军人事务局",
            already_used_here: "此码已在本店使用过，请让持证人刷新后重新出示",
            unknown_short_code: "数字码无效、已使用或已过期，请让持证人刷新后重新出示",
            not_eligible_here: "证件有效，但本店优惠不适用于该类别或今日已享受过，请按普通顾客结算",
            offline_unsupported: "离线时无法核验此码，请让持证人出示二维码或联网后核验",
            sync_required: "离线数据已过期，请联网同步",
          };
          // ShopPages.shortReason: the words a cashier reads first.
          const headlines = {
            expired: "已过期", already_used_here: "已使用", card_revoked: "证件已注销", card_expired: "证件已过期",
            unknown_short_code: "数字码无效", not_yet_valid: "尚未生效", bad_signature: "非本平台优待码", unknown_key: "非本平台优待码",
            not_eligible_here: "本店优惠不适用", sync_required: "请联网同步", offline_unsupported: "须联网核验",
          };
          // ShopSnapshot.Problem: why a stored snapshot cannot be used at all.
          const problems = {
            missing: { reason: "sync_required", message: "本设备还没有离线数据，请联网同步" },
            tampered: { reason: "sync_required", message: "离线数据无法验证（可能被改动），请联网同步" },
            shop_not_active: { reason: "sync_required", headline: "非合作商户", message: "非合作商户：该商户已暂停或取消合作，不能离线核验" },
          };

          // Unpadded base64url, strict like Base64URL.decode: null for any other character, length or leftover bits.
          function base64url(input) {
            if (typeof input !== "string" || input.length % 4 === 1) return null;
            const out = new Uint8Array(Math.floor(input.length * 3 / 4));
            let buffer = 0, bits = 0, n = 0;
            for (let i = 0; i < input.length; i++) {
              const value = alphabet.indexOf(input[i]);
              if (value < 0) return null;
              buffer = ((buffer << 6) | value) & 0xffffff;
              bits += 6;
              if (bits >= 8) {
                bits -= 8;
                out[n++] = (buffer >> bits) & 0xff;
              }
            }
            return buffer & ((1 << bits) - 1) ? null : out;
          }

          // A JSON object from UTF-8 bytes, or null.
          function object(bytes) {
            try {
              const value = parseJSON(text.decode(bytes));
              return isObject(value) ? value : null;
            } catch (error) {
              return null;
            }
          }

          // JSON as Foundation's JSONDecoder reads it, where JSON.parse differs: the first of two equal keys wins, a lone
          // surrogate escape is an error, and so is nesting deeper than `deepest`.
          function parseJSON(source) {
            const deepest = 512;
            let at = 0;
            const fail = () => { throw new SyntaxError("JSON, at " + at); };
            const space = () => { while (at < source.length && " \t\n\r".includes(source[at])) at++; };
            const token = (pattern) => {
              pattern.lastIndex = at;
              const found = pattern.exec(source) || fail();
              at = pattern.lastIndex;
              return found[0];
            };
            const string = () => {
              const decoded = JSON.parse(token(/"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y));
              return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(decoded) ? fail() : decoded;
            };
            function value(depth) {
              space();
              const next = source[at];
              if (next === '"') return string();
              if (next !== "{" && next !== "[") return JSON.parse(token(/true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y));
              if (depth >= deepest) fail();
              at++;
              const object = next === "{" ? Object.create(null) : [], close = next === "{" ? "}" : "]";
              space();
              if (source[at] === close) {
                at++;
                return object;
              }
              for (;;) {
                if (next === "[") object.push(value(depth + 1));
                else {
                  space();
                  const key = source[at] === '"' ? string() : fail();
                  space();
                  if (source[at++] !== ":") fail();
                  const member = value(depth + 1);
                  if (!(key in object)) object[key] = member;
                }
                space();
                const after = source[at++];
                if (after === close) return object;
                if (after !== ",") fail();
              }
            }
            const result = value(0);
            space();
            return at === source.length ? result : fail();
          }

          const trimmed = /^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
          const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
          const isString = (value) => typeof value === "string";
          const isOptionalString = (value) => value === undefined || value === null || typeof value === "string";
          const isTime = (value) => Number.isInteger(value) && value >= earliestTime && value <= latestTime;

          // CompactJWS.verify: shape, alg, typ (one of `types`; null for none), kid and signature; payload bytes or a reason.
          async function verifyJWS(token, keys, types, maximumLength) {
            if (utf8.encode(token).length > maximumLength) return "malformed";
            const parts = token.split(".");
            if (parts.length !== 3) return "malformed";
            const headerBytes = base64url(parts[0]), payload = base64url(parts[1]), signature = base64url(parts[2]);
            const header = headerBytes && payload && signature ? object(headerBytes) : null;
            if (!header || header.alg !== "EdDSA" || !isOptionalString(header.kid) || !isOptionalString(header.typ)) return "malformed";
            if ((header.crit !== undefined && header.crit !== null) || !types.includes(header.typ ?? null) || !isString(header.kid)) return "malformed";
            const key = keys.get(header.kid);
            if (!key) return "unknown_key";
            const input = utf8.encode(parts[0] + "." + parts[1]);
            const valid = signature.length === 64 && (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, input).catch(() => false));
            return valid ? { payload } : "bad_signature";
          }

          // TrustedKeys(jwks:): every key a well-formed Ed25519 key, or none trusted at all.
          async function trustedKeys(jwks) {
            if (!isObject(jwks) || !Array.isArray(jwks.keys)) return null;
            const keys = new Map();
            for (const jwk of jwks.keys) {
              if (!isObject(jwk) || ["kty", "crv", "use", "alg", "kid", "x"].some((name) => !isString(jwk[name]))) return null;
              const raw = jwk.kty === "OKP" && jwk.crv === "Ed25519" ? base64url(jwk.x) : null;
              if (!raw || raw.length !== 32) return null;
              const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).catch(() => null);
              if (!key) return null;
              if (!keys.has(jwk.kid)) keys.set(jwk.kid, key);
            }
            return keys.size > 0 ? keys : null;
          }

          // StatusList(compressed:): zlib inflated, refused beyond 16 MiB (a zlib bomb stops there) or when empty.
          async function inflate(bytes) {
            const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
            const chunks = [];
            let size = 0;
            try {
              for (let part = await reader.read(); !part.done; part = await reader.read()) {
                size += part.value.length;
                if (size > listBytes) {
                  reader.cancel().catch(() => {});
                  return null;
                }
                chunks.push(part.value);
              }
            } catch (error) {
              return null;
            }
            const list = new Uint8Array(size);
            chunks.reduce((offset, chunk) => (list.set(chunk, offset), offset + chunk.length), 0);
            return size > 0 ? list : null;
          }

          // StatusListClaims.open: signed by a key of the snapshot, from our issuer, 2 bits per entry.
          async function openStatusList(token, keys, issuer) {
            const verified = isString(token) ? await verifyJWS(token, keys, ["statuslist+jwt"], listLength) : null;
            const claims = verified && verified.payload ? object(verified.payload) : null;
            if (!claims || !isString(claims.iss) || !isString(claims.sub) || !["iat", "exp", "ttl"].every((n) => Number.isInteger(claims[n]))) return null;
            const body = claims.status_list;
            if (!isObject(body) || !Number.isInteger(body.bits) || !isString(body.lst)) return null;
            if (claims.iss !== issuer || body.bits !== 2 || claims.iat > claims.exp) return null;
            const compressed = base64url(body.lst);
            const entries = compressed && (await inflate(compressed));
            return entries ? { uri: claims.sub, exp: claims.exp, entries } : null;
          }

          // ShopSnapshot.open: what verdicts need, or {problem} ("tampered", "shop_not_active").
          async function open(token, issuer = "yongjun") {
            const parts = isString(token) && utf8.encode(token).length <= snapshotLength ? token.split(".") : [];
            const claims = parts.length === 3 && base64url(parts[1]) ? object(base64url(parts[1])) : null;
            const shop = claims && claims.shop;
            const integers = claims && ["iat", "exp", "maxOfflineAge", "clockLeeway"].every((name) => Number.isInteger(claims[name]));
            if (!integers || !isString(claims.iss) || !isString(claims.statusList) || !isObject(shop)) return { problem: "tampered" };
            if (!Number.isInteger(shop.id) || !["name", "industry", "status"].every((name) => isString(shop[name])) || !isOptionalString(shop.benefit)) {
              return { problem: "tampered" };
            }
            const keys = await trustedKeys(claims.jwks);
            const verified = keys && (await verifyJWS(token, keys, ["yongjun-snapshot+jwt"], Infinity));
            if (!verified || !verified.payload || claims.iss !== issuer || claims.maxOfflineAge <= 0) return { problem: "tampered" };
            if (claims.exp !== claims.iat + claims.maxOfflineAge || claims.clockLeeway < 0 || claims.clockLeeway > 3600) return { problem: "tampered" };
            const list = await openStatusList(claims.statusList, keys, issuer);
            if (!list) return { problem: "tampered" };
            if (shop.status !== "active") return { problem: "shop_not_active" };
            return { iat: claims.iat, exp: claims.exp, leeway: claims.clockLeeway, issuer: claims.iss, shop, keys, list };
          }

          // CodeClaims as JSONDecoder reads them, with CodeVerifier.authenticate's checks; null when malformed.
          function codeClaims(payload, snapshot) {
            const claims = object(payload);
            if (!claims || ["iss", "sub", "jti", "cat", "name"].some((name) => !isString(claims[name]))) return null;
            if (!["iat", "nbf", "exp"].every((name) => Number.isInteger(claims[name]))) return null;
            const status = claims.status;
            if (status !== undefined && status !== null) {
              const entry = isObject(status) ? status.status_list : null;
              if (!isObject(entry) || !Number.isInteger(entry.idx) || !isString(entry.uri) || entry.idx < 0) return null;
            }
            if (claims.iss !== snapshot.issuer || !Object.prototype.hasOwnProperty.call(categories, claims.cat)) return null;
            return withinBounds(claims, snapshot.leeway) ? claims : null;
          }

          // CodeClaims.boundsRejection: times in range, ordered, at most ten years apart.
          function withinBounds(claims, leeway) {
            if (!isTime(claims.iat) || !isTime(claims.nbf) || !isTime(claims.exp)) return false;
            return claims.nbf <= claims.exp && claims.nbf >= claims.iat - leeway && claims.exp - claims.iat <= longestLifetime;
          }

          // CodeClaims.timeRejection at `now` (Unix seconds).
          function timeRejection(claims, now, leeway) {
            if (now >= claims.exp + leeway) return "expired";
            if (now < claims.nbf - leeway || now < claims.iat - leeway) return "not_yet_valid";
            return null;
          }

          // CodeUse: a phone code is used once; a printed credential once per China calendar day.
          function useOf(claims, nowMillis, leeway) {
            if (claims.exp - claims.iat <= 86400) return { key: claims.jti, until: claims.exp + leeway };
            const day = Math.floor((Math.floor(nowMillis / 1000) + chinaOffset) / 86400);
            return { key: claims.jti + "@" + new Date(day * 86400000).toISOString().slice(0, 10), until: (day + 1) * 86400 - chinaOffset };
          }

          // OfflineVerifier.verify before single use: `{reason}` (null when valid) with `claims`, and `use` when valid.
          async function check(input, snapshot, nowMillis) {
            if (!snapshot || snapshot.problem) return problems[snapshot ? snapshot.problem : "missing"];
            const now = Math.floor(nowMillis / 1000);
            if (now < snapshot.iat - snapshot.leeway) return { reason: "sync_required", message: "设备时间早于上次同步时间，请校准时间后联网同步" };
            if (now >= snapshot.exp || now >= snapshot.list.exp) return { reason: "sync_required" };
            // As the kit: a scanner's newline or spaces are trimmed (Foundation's whitespacesAndNewlines), nothing else.
            const code = /^[ \t\n\r]|[ \t\n\r]$/.test(input) ? input.replace(trimmed, "") : input;
            if (/^[0-9]{8,10}$/.test(code)) return { reason: "offline_unsupported" };
            const verified = await verifyJWS(code, snapshot.keys, [null, "JWT"], codeLength);
            if (isString(verified)) return { reason: verified };
            const claims = codeClaims(verified.payload, snapshot);
            if (!claims) return { reason: "malformed" };
            const late = timeRejection(claims, now, snapshot.leeway);
            if (late) return { reason: late, claims };
            const entry = claims.status ? claims.status.status_list : null;
            if (!entry || entry.uri !== snapshot.list.uri) return { reason: "offline_unsupported", claims };
            if (entry.idx >= snapshot.list.entries.length * 4) return { reason: "malformed", claims };
            const status = (snapshot.list.entries[entry.idx >> 2] >> (2 * (entry.idx % 4))) & 3;
            if (status !== 0) return { reason: ["", "card_revoked", "card_expired", "offline_unsupported"][status], claims };
            return { reason: null, claims, use: useOf(claims, nowMillis, snapshot.leeway) };
          }

          // The claims of a code without checking it, to remember a use the server already judged valid.
          function peek(token) {
            const parts = isString(token) ? token.split(".") : [];
            const claims = parts.length === 3 && base64url(parts[1]) ? object(base64url(parts[1])) : null;
            return claims && isString(claims.jti) && isTime(claims.iat) && isTime(claims.exp) ? claims : null;
          }

          global.YongjunOffline = {
            open, check, useOf, peek,
            message: (verdict) => verdict.message || messages[verdict.reason] || messages.malformed,
            headline: (verdict) => verdict.headline || headlines[verdict.reason] || "无法识别",
            categoryLabel: (cat) => categories[cat] || "",
          };
        })(self);
        """#
}
