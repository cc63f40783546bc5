#!/usr/bin/env bash
# Renders deploy/nginx/ for a run without root, as check-deploy.sh and the tests do: WORK/nginx.conf (pid, logs
# and temp files in WORK) around the site file and the upstream from render-upstream.sh. The site listens on
# 127.0.0.1:SITE_PORT and its HTTP redirect on 127.0.0.1:REDIRECT_PORT. With TLS_DIR (server.crt and server.key
# from certs/make-dev-certs.sh) the site serves HTTPS as in production; with `plain` it serves plain HTTP.
#   deploy/nginx-sandbox.sh WORK SITE_PORT REDIRECT_PORT TLS_DIR|plain APP_PORT…
#   nginx -p WORK -c WORK/nginx.conf   (stop: nginx -p WORK -c WORK/nginx.conf -s stop)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 5 ] || { echo "usage: $0 WORK SITE_PORT REDIRECT_PORT TLS_DIR|plain APP_PORT…" >&2; exit 2; }
WORK=$1 SITE_PORT=$2 REDIRECT_PORT=$3 TLS=$4
shift 4
mkdir -p "$WORK/logs"
if [ "$TLS" = plain ]; then
  SITE_LISTEN=(-e "s#listen 443 ssl http2;#listen 127.0.0.1:$SITE_PORT;#" -e "/^[[:space:]]*ssl_/d")
else
  SITE_LISTEN=(-e "s#listen 443 ssl http2;#listen 127.0.0.1:$SITE_PORT ssl http2;#" -e "s#/etc/yongjun/tls/#$TLS/#")
fi
sed "${SITE_LISTEN[@]}" -e "/listen \[::\]:443/d" -e "s#listen 80;#listen 127.0.0.1:$REDIRECT_PORT;#" -e "/listen \[::\]:80/d" \
  "$ROOT/deploy/nginx/yongjun.conf" >"$WORK/site.conf"
"$ROOT/deploy/render-upstream.sh" "$@" >"$WORK/upstream.conf"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/logs/access.log;
    client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi; uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
    include $WORK/upstream.conf;
    include $WORK/site.conf;
}
CONF
