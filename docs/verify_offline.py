#!/usr/bin/env python3
"""Verify a Yongjun code offline from a shop snapshot, with PyJWT and zlib only (see docs/offline.md).

Usage: verify_offline.py SNAPSHOT_FILE CODE [NOW_UNIX_SECONDS]   (SNAPSHOT_FILE: `yongjun shop sync`'s snapshot.jwt)
Prints the verdict as JSON; exit status 0 when valid. Does not remember uses: single use is the device's job."""
import base64, json, sys, time, zlib
import jwt
from jwt.algorithms import OKPAlgorithm

def b64(text): return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

def check(token, keys, typ, **options):  # signature, alg and typ; times are checked below with the snapshot's leeway
    header = jwt.get_unverified_header(token)
    if header.get("typ") != typ or header.get("kid") not in keys: raise jwt.InvalidTokenError("typ or kid")
    return jwt.decode(token, keys[header["kid"]], algorithms=["EdDSA"], options={"verify_exp": False, "verify_nbf": False, "verify_iat": False}, **options)

def verdict(snapshot_token, code, now):
    claimed = json.loads(b64(snapshot_token.split(".")[1]))  # the key set travels inside; the signature must hold under it
    keys = {key["kid"]: OKPAlgorithm.from_jwk(json.dumps(key)) for key in claimed["jwks"]["keys"]}
    snapshot = check(snapshot_token, keys, "yongjun-snapshot+jwt")
    leeway = snapshot["clockLeeway"]
    if not snapshot["iat"] - leeway <= now < snapshot["exp"]: return "sync_required", None
    status_list = check(snapshot["statusList"], keys, "statuslist+jwt")
    if now >= status_list["exp"]: return "sync_required", None
    if code.isdigit(): return "offline_unsupported", None
    try: claims = check(code, keys, "JWT", issuer=snapshot["iss"])
    except jwt.InvalidSignatureError: return "bad_signature", None
    except jwt.InvalidTokenError: return "malformed", None
    if now >= claims["exp"] + leeway: return "expired", claims
    if now < claims["nbf"] - leeway or now < claims["iat"] - leeway: return "not_yet_valid", claims
    entry = claims.get("status", {}).get("status_list")
    if not entry or entry["uri"] != status_list["sub"]: return "offline_unsupported", claims
    lst = zlib.decompress(b64(status_list["status_list"]["lst"]))
    if entry["idx"] >= 4 * len(lst): return "malformed", claims
    value = lst[entry["idx"] // 4] >> 2 * (entry["idx"] % 4) & 3  # 2 bits per entry, least significant first
    return {0: None, 1: "card_revoked", 2: "card_expired", 3: "offline_unsupported"}[value], claims

if __name__ == "__main__":
    now = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
    reason, claims = verdict(open(sys.argv[1]).read().strip(), sys.argv[2].strip(), now)
    answer = {"valid": reason is None, "offline": True}
    if reason: answer["reason"] = reason
    elif claims: answer.update(category=claims["cat"], holder=claims["name"])
    print(json.dumps(answer, ensure_ascii=False))
    sys.exit(0 if reason is None else 1)
