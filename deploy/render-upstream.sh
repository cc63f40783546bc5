#!/usr/bin/env bash
# Prints deploy/nginx/yongjun-upstream.conf with one `server` line per Yongjun instance given, each keeping the
# line's max_fails and fail_timeout. An instance is PORT (on 127.0.0.1) or HOST:PORT. Operators, check-deploy.sh
# and the tests all use it, so nginx always runs the file in this repository:
#   deploy/render-upstream.sh 8081 8082 > /etc/nginx/conf.d/yongjun-upstream.conf && nginx -t
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { echo "usage: $0 PORT|HOST:PORT…  (e.g. $0 8081 8082)" >&2; exit 2; }
for instance in "$@"; do
  [[ $instance =~ ^([A-Za-z0-9.-]+:|\[[0-9A-Fa-f:.]+\]:)?[0-9]{1,5}$ ]] || { echo "$0: not PORT or HOST:PORT: $instance" >&2; exit 2; }
done
awk -v instances="$*" '
  /^[[:space:]]*server[[:space:]]+127\.0\.0\.1:[0-9]+/ {
    if (!written) {
      count = split(instances, list, " ")
      for (i = 1; i <= count; i++) {
        line = $0
        sub(/127\.0\.0\.1:[0-9]+/, (list[i] ~ /:/ ? list[i] : "127.0.0.1:" list[i]), line)
        print line
      }
      written = 1
    }
    next
  }
  { print }
' "$ROOT/deploy/nginx/yongjun-upstream.conf"
