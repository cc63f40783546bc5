extension Assets {
    /// Served at /assets/offline-verify.js: the offline verdict of docs/offline.md (snapshot and status-list signatures,
    /// clock guard, the code's signature, claims, validity window and status entry), ported from the server's rules.
    static let offlineVerifyScript = #"""
        // The offline verdict of docs/offline.md, with the server's rules (CodeVerifier, CodeClaims, VerificationService).
        "use strict";
        (function (global) {
          const utf8 = new TextEncoder();
          const text = new TextDecoder("utf-8", { fatal: true });
          const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
          const earliestTime = 946684800, latestTime = 7258118400, longestLifetime = 3653 * 86400, maximumLength = 2048;
          const chinaOffset = 8 * 3600;
          const categories = {
            active_duty: "现役军人", veteran: "退役军人", military_family: "军属", martyr_family: "烈属",
            duty_death_family: "因公牺牲军人遗属", illness_death_family: "病故军人遗属", other_entitled: "其他优抚对象",
          };
          // VerificationReason.message, and the two reasons only a device gives.
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
            offline_unsupported: "离线时无法核验此码，请让持证人出示二维码或联网后核验",
            sync_required: "离线数据已过期，请联网同步",
          };
          // ShopPages.shortReason: the words a cashier reads first.
          const headlines = {
            expired: "已过期", already_used_here: "已使用", card_revoked: "证件已注销", card_expired: "证件已过期",
            unknown_short_code: "数字码无效", not_yet_valid: "尚未生效", bad_signature: "非本平台优待码", unknown_key: "非本平台优待码",
            offline_unsupported: "无法离线核验", sync_required: "请联网同步",
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
              const value = JSON.parse(text.decode(bytes));
              return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
            } catch (error) {
              return null;
            }
          }

          // The parts of a compact JWS whose header is `{"alg":"EdDSA","kid":…}` without `crit`; null otherwise.
          function compact(token) {
            const parts = token.split(".");
            if (parts.length !== 3) return null;
            const headerBytes = base64url(parts[0]), payload = base64url(parts[1]), signature = base64url(parts[2]);
            const header = headerBytes && payload && signature ? object(headerBytes) : null;
            if (!header || header.alg !== "EdDSA" || (header.crit !== undefined && header.crit !== null) || typeof header.kid !== "string") return null;
            return { header, payload, signature, input: utf8.encode(parts[0] + "." + parts[1]) };
          }

          function verifySignature(key, jws) {
            if (jws.signature.length !== 64) return Promise.resolve(false);
            return crypto.subtle.verify({ name: "Ed25519" }, key, jws.signature, jws.input).catch(() => false);
          }

          const isTime = (value) => Number.isInteger(value) && value >= earliestTime && value <= latestTime;

          // CodeClaims.boundsRejection: times from our issuer are in range, ordered, and at most ten years apart.
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

          // VerificationService.use(of:): a phone code is used once; a printed credential once per China calendar day.
          function useOf(claims, nowMillis, leeway) {
            if (claims.exp - claims.iat <= 86400) return { key: claims.jti, until: claims.exp + leeway };
            const day = Math.floor((Math.floor(nowMillis / 1000) + chinaOffset) / 86400);
            return { key: claims.jti + "@" + new Date(day * 86400000).toISOString().slice(0, 10), until: (day + 1) * 86400 - chinaOffset };
          }

          async function inflate(bytes) {
            const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
            return new Uint8Array(await new Response(stream).arrayBuffer());
          }

          // Checks a snapshot's signature and its status list's, and returns what verdicts need; throws when either fails.
          async function prepare(token) {
            const outer = typeof token === "string" ? compact(token) : null;
            const claims = outer && outer.header.typ === "yongjun-snapshot+jwt" ? object(outer.payload) : null;
            if (!claims || !claims.jwks || !Array.isArray(claims.jwks.keys) || typeof claims.statusList !== "string") throw new Error("snapshot");
            if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp) || !Number.isInteger(claims.clockLeeway)) throw new Error("snapshot");
            const keys = new Map();
            for (const jwk of claims.jwks.keys) {
              if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.kid !== "string" || typeof jwk.x !== "string") continue;
              try {
                keys.set(jwk.kid, await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]));
              } catch (error) {
                // A key this browser cannot read verifies nothing.
              }
            }
            const outerKey = keys.get(outer.header.kid);
            if (!outerKey || !(await verifySignature(outerKey, outer))) throw new Error("snapshot signature");
            const list = compact(claims.statusList);
            const listClaims = list && list.header.typ === "statuslist+jwt" ? object(list.payload) : null;
            const listKey = list && keys.get(list.header.kid);
            if (!listClaims || !listKey || !(await verifySignature(listKey, list))) throw new Error("status list signature");
            const statusList = listClaims.status_list;
            const compressed = statusList && statusList.bits === 2 ? base64url(statusList.lst) : null;
            if (!compressed) throw new Error("status list");
            return {
              iat: claims.iat, exp: claims.exp, leeway: claims.clockLeeway, issuer: claims.iss, shop: claims.shop || {},
              keys, statuses: await inflate(compressed),
            };
          }

          // CodeVerifier.authenticate: the claims of a genuine, well-formed code, or the reason it is not one.
          async function authenticate(token, snapshot) {
            if (utf8.encode(token).length > maximumLength) return "malformed";
            const jws = compact(token);
            if (!jws) return "malformed";
            const key = snapshot.keys.get(jws.header.kid);
            if (!key) return "unknown_key";
            if (!(await verifySignature(key, jws))) return "bad_signature";
            const claims = object(jws.payload);
            if (!claims || ["iss", "sub", "jti", "cat", "name"].some((name) => typeof claims[name] !== "string")) return "malformed";
            if (claims.iss !== snapshot.issuer || !Object.hasOwn(categories, claims.cat) || !withinBounds(claims, snapshot.leeway)) return "malformed";
            return claims;
          }

          // The verdict on `code` at `nowMillis`, before single use: `{reason}` (null when valid), with `claims` and `use`.
          async function check(code, snapshot, nowMillis) {
            const now = Math.floor(nowMillis / 1000);
            if (!snapshot) return { reason: "sync_required", message: "本设备还没有离线数据，请联网同步" };
            if (now < snapshot.iat - snapshot.leeway) return { reason: "sync_required", message: "设备时间早于上次同步时间，请校准时间后联网同步" };
            if (now > snapshot.exp) return { reason: "sync_required" };
            // What the server reads as a short code (ShortCodeTable.looksLikeShortCode) only the server can look up.
            if (/^[0-9]{8,10}$/.test(code)) return { reason: "offline_unsupported" };
            const claims = await authenticate(code, snapshot);
            if (typeof claims === "string") return { reason: claims };
            const late = timeRejection(claims, now, snapshot.leeway);
            if (late) return { reason: late, claims };
            const entry = claims.status && claims.status.status_list ? claims.status.status_list.idx : undefined;
            if (!Number.isInteger(entry) || entry < 0 || entry >= snapshot.statuses.length * 4) return { reason: "offline_unsupported", claims };
            const status = (snapshot.statuses[entry >> 2] >> (2 * (entry % 4))) & 3;
            if (status !== 0) return { reason: ["", "card_revoked", "card_expired", "offline_unsupported"][status], claims };
            return { reason: null, claims, use: useOf(claims, nowMillis, snapshot.leeway) };
          }

          // The claims of a code without checking it, to remember a use the server already judged valid.
          function peek(token) {
            const jws = typeof token === "string" ? compact(token) : null;
            const claims = jws ? object(jws.payload) : null;
            return claims && typeof claims.jti === "string" && isTime(claims.iat) && isTime(claims.exp) ? claims : null;
          }

          global.YongjunOffline = {
            prepare, check, useOf, peek,
            message: (reason) => messages[reason] || messages.malformed,
            headline: (reason) => headlines[reason] || "无法识别",
            categoryLabel: (cat) => categories[cat] || "",
          };
        })(self);
        """#
}
