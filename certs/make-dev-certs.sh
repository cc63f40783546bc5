#!/usr/bin/env bash
# Creates a development CA and a server certificate for localhost, 127.0.0.1 and the service name, with
# OpenSSL, in certs/out/ (ignored by git; keys mode 0600). Never use these in production: see certs/README.md.
#
#   certs/make-dev-certs.sh                 # writes certs/out/{ca.crt,ca.key,server.crt,server.key}
#   YONGJUN_SERVICE_NAME=yongjun.lianzhou.example certs/make-dev-certs.sh /tmp/yongjun-certs
set -euo pipefail
OUT=${1:-$(cd "$(dirname "$0")" && pwd)/out}
NAME=${YONGJUN_SERVICE_NAME:-yongjun.local}
command -v openssl >/dev/null || { echo "openssl is required (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$OUT"
chmod 700 "$OUT"
cd "$OUT"
umask 077

if [ ! -f ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -keyout ca.key -out ca.crt -subj "/O=Yongjun development/CN=Yongjun Development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/O=Yongjun development/CN=$NAME" 2>/dev/null
cat >server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:$NAME,DNS:yongjun,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 397 -sha256 \
  -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext
chmod 600 ca.key server.key
chmod 644 ca.crt server.crt
echo "development CA:      $OUT/ca.crt (give to test clients: curl --cacert)"
echo "server certificate:  $OUT/server.crt  key: $OUT/server.key  (localhost, 127.0.0.1, $NAME)"
