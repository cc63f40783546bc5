#!/usr/bin/env bash
# Checks deploy/ for real: `nginx -t` on the site, an HTTPS verification through nginx (dev CA from certs/)
# to a running Yongjun, and `systemd-analyze verify` on the unit and on the template for several instances.
# Used by the test suite; runs by hand too:
#   deploy/check-deploy.sh [path/to/yongjun]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/.build/debug/yongjun}")
WORK=$(mktemp -d /tmp/yongjun-deploy-XXXXXX)
SERVER_PID=""; NGINX_STARTED=""
cleanup() {
  [ -n "$NGINX_STARTED" ] && nginx -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. Certificates from certs/, as an operator would make them.
"$ROOT/certs/make-dev-certs.sh" "$WORK/tls" >/dev/null

# 2. Yongjun with a shop and a card.
export YONGJUN_DATA_DIR=$WORK/data YONGJUN_OPERATOR=deploy-check
"$BIN" keys init >/dev/null
printf 'card_no,name,id_number,category,valid_until\nLZ9000001,张小三,11010519491231002X,veteran,2099-12-31\n' >"$WORK/cards.csv"
"$BIN" cards import "$WORK/cards.csv" >/dev/null
SHOP=$("$BIN" merchants add --name 部署检查商户 --industry other)
KEY=$("$BIN" merchants key "$SHOP")
APP_PORT=$(free_port)
"$BIN" serve --port "$APP_PORT" --admin-port off --trusted-proxy 127.0.0.1 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q "serving on" "$WORK/server.log" && break; sleep 0.2; done
grep -q "serving on" "$WORK/server.log" || { cat "$WORK/server.log"; echo "FAIL: yongjun did not start"; exit 1; }

# 3. The site file and the upstream (rendered for this run's ports and certificate paths), inside a minimal nginx.conf.
HTTPS_PORT=$(free_port); HTTP_PORT=$(free_port)
"$ROOT/deploy/nginx-sandbox.sh" "$WORK" "$HTTPS_PORT" "$HTTP_PORT" "$WORK/tls" "$APP_PORT"
nginx -t -p "$WORK" -c "$WORK/nginx.conf" 2>&1 | sed 's/^/nginx -t: /'
nginx -p "$WORK" -c "$WORK/nginx.conf"
NGINX_STARTED=1
echo "PASS: nginx -t accepts deploy/nginx/yongjun.conf"

# 4. A verification over HTTPS through nginx, trusting only the development CA.
CODE=$("$BIN" cards code LZ9000001)
RESOLVE="--resolve yongjun.local:$HTTPS_PORT:127.0.0.1"
ANSWER=$(curl -sS --fail-with-body --cacert "$WORK/tls/ca.crt" $RESOLVE -D "$WORK/headers" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "{\"code\":\"$CODE\"}" \
  "https://yongjun.local:$HTTPS_PORT/api/v1/verifications")
echo "$ANSWER" | grep -q '"valid":true' || { echo "FAIL: answer through nginx: $ANSWER"; exit 1; }
grep -qi '^strict-transport-security:' "$WORK/headers" || { echo "FAIL: no HSTS header"; exit 1; }
grep -qi '^x-content-type-options: nosniff' "$WORK/headers" || { echo "FAIL: no nosniff header"; exit 1; }
REDIRECT=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/")
[ "$REDIRECT" = 301 ] || { echo "FAIL: plain HTTP answered $REDIRECT, not a redirect"; exit 1; }
if curl -s --cacert /etc/ssl/certs/ca-certificates.crt $RESOLVE "https://yongjun.local:$HTTPS_PORT/healthz" >/dev/null 2>&1; then
  echo "FAIL: the dev certificate was trusted without the dev CA"; exit 1
fi
echo "PASS: HTTPS verification through nginx with the dev CA: $ANSWER"

# 4a. With Idempotency-Key the request takes nginx's retryable detour; a repeat gets the first answer back.
CODE=$("$BIN" cards code LZ9000001)
keyed() {
  curl -sS --fail-with-body --cacert "$WORK/tls/ca.crt" $RESOLVE -H "Authorization: Bearer $KEY" \
    -H 'Idempotency-Key: deploy-check-1' -d "{\"code\":\"$CODE\"}" "https://yongjun.local:$HTTPS_PORT/api/v1/verifications"
}
FIRST=$(keyed); AGAIN=$(keyed)
echo "$FIRST" | grep -q '"valid":true' || { echo "FAIL: keyed answer through nginx: $FIRST"; exit 1; }
[ "$FIRST" = "$AGAIN" ] || { echo "FAIL: a repeat with the same Idempotency-Key got another answer: $AGAIN"; exit 1; }
echo "PASS: Idempotency-Key through nginx: the repeat got the first answer"

# 4b. Page cookies through nginx are Secure (nginx terminates TLS and says so; yongjun trusts it as trusted_proxy),
# while plain HTTP straight to yongjun gets no Secure flag.
curl -sS -o /dev/null --cacert "$WORK/tls/ca.crt" $RESOLVE -D "$WORK/page-headers" "https://yongjun.local:$HTTPS_PORT/card"
grep -i '^set-cookie: yj_csrf=' "$WORK/page-headers" | grep -qi '; *secure' || { cat "$WORK/page-headers"; echo "FAIL: page cookie through nginx is not Secure"; exit 1; }
curl -sS -o /dev/null -D "$WORK/direct-headers" "http://127.0.0.1:$APP_PORT/card"
if grep -i '^set-cookie: yj_csrf=' "$WORK/direct-headers" | grep -qi '; *secure'; then
  echo "FAIL: a page cookie over plain HTTP was marked Secure"; exit 1
fi
echo "PASS: page cookies are Secure behind nginx and not over plain HTTP"

# 5. The systemd unit and the template for several instances (checked as instance yongjun@8081), pointed at this binary.
verify_unit() { # FILE UNIT_TO_CHECK
  mkdir -p "$WORK/units"
  sed -e "s#/usr/local/bin/yongjun#$BIN#" -e "s#^User=yongjun#User=root#" -e "s#^Group=yongjun#Group=root#" \
    "$ROOT/deploy/systemd/$1" >"$WORK/units/$1"
  local output problems
  output=$(systemd-analyze verify "$WORK/units/$2" 2>&1 || true)
  problems=$(echo "$output" | grep -i "yongjun" | grep -vi "not found\|No such file\|Failed to .* bus\|Cannot find unit" || true)
  [ -z "$problems" ] || { echo "$output"; echo "FAIL: systemd-analyze verify $2"; exit 1; }
  echo "PASS: systemd-analyze verify deploy/systemd/$1${output:+ (notes: $(echo "$output" | head -2 | tr '\n' ' '))}"
}
if command -v systemd-analyze >/dev/null; then
  verify_unit yongjun.service yongjun.service
  verify_unit yongjun@.service yongjun@8081.service
else
  echo "SKIP: systemd-analyze is not installed here"
fi
echo "deploy check passed"
