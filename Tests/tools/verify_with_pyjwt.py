#!/usr/bin/env python3
"""Third-party check: verifies a Yongjun code with PyJWT against the server's published JWKS.

usage: verify_with_pyjwt.py JWKS_URL CODE
Prints the verified claims as JSON and exits 0, or prints the PyJWT error and exits 1.
"""
import json
import sys

import jwt

jwks_url, code = sys.argv[1], sys.argv[2]
try:
    signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(code)
    claims = jwt.decode(code, signing_key.key, algorithms=["EdDSA"], issuer="yongjun")
except jwt.PyJWTError as error:
    print(f"rejected: {type(error).__name__}: {error}")
    sys.exit(1)
print(json.dumps({"kid": signing_key.key_id, "claims": claims}, ensure_ascii=False))
