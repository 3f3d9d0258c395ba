#!/usr/bin/env bash
# How far the admin read model runs behind the journal: registers users one at a time and times, for each, the
# span from the 201 of POST /user to the user's first appearance in GET /users (polled every 20 ms).
# Needs a running service whose first admin is configured (Admin:Email, Admin:Password).
#
#   tests/tools/measure-lag.sh URL ADMIN-EMAIL ADMIN-PASSWORD [COUNT]
set -euo pipefail
url="$1" email="$2" password="$3" count="${4:-20}"

token="$(curl -sf -XPOST "$url/user/auth" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
[ -n "$token" ] || { echo "cannot sign in as $email" >&2; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
lags=()
for i in $(seq 1 "$count"); do
  name="lag$(date +%s%N)"
  curl -sf -o /dev/null -XPOST "$url/user" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"lag-password\"}"
  start="$(now_ms)"
  until curl -sf "$url/users/count?pattern=$name" -H "Authorization: Bearer $token" | grep -q '"count":1'; do sleep 0.02; done
  lags+=($(( $(now_ms) - start )))
done

sorted=($(printf '%s\n' "${lags[@]}" | sort -n))
echo "read model lag over $count registrations: min ${sorted[0]} ms, median ${sorted[$((count / 2))]} ms, max ${sorted[$((count - 1))]} ms"
