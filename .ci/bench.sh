#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: starts the three release binaries on fresh databases of the
# backend named by the first argument and drives them over loopback with oha:
#   sqlite             one process per service, SQLite files in a temporary folder (default);
#   postgres           one process per service, on PostgreSQL;
#   postgres-replicas  two replicas per service on PostgreSQL, behind HAProxy (.ci/haproxy.cfg).
# The PostgreSQL runs need a server in the environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, as
# `make bench` gives it with pg_virtualenv: a throwaway cluster with the default, durable
# settings — fsync on, synchronous commit); each run makes databases of its own there.
#   1. order creation end to end: POST /api/v1/orders/ at concurrency 32 for $CREATE_SECS s,
#      with the real order shapes of the Olist dataset (../shared/data/olist, turned into
#      request bodies by olist_orders.py), then the time until every order is paid and its
#      confirmation accepted by the Notification Service;
#   2. GET /api/v1/orders/{id} at a fixed 2,000 requests/s for $READ_SECS s (P50/P99);
#   3. resident memory of each service afterwards;
#   4. bulk import: a file of $IMPORT_ORDERS orders (about $IMPORT_ROWS rows; built from the
#      Olist dataset by olist_import_csv.py) posted as text/csv to /api/v1/orders/imports,
#      then the time until the import is final, every order of it is paid and every
#      confirmation is accepted (queued) by the Notification Service, with the Order
#      Service's VmRSS sampled every 50 ms throughout. IMPORT_ONLY=1 runs only this phase,
#      on fresh databases.
set -euo pipefail
cd "$(dirname "$0")/.."
CREATE_SECS=${CREATE_SECS:-20}
READ_SECS=${READ_SECS:-20}
IMPORT_ONLY=${IMPORT_ONLY:-0}
IMPORT_ORDERS=${IMPORT_ORDERS:-10000}
IMPORT_ROWS=${IMPORT_ROWS:-30000}
IMPORT_TIMEOUT_SECS=${IMPORT_TIMEOUT_SECS:-60}
BACKEND=${1:-sqlite}
# BENCH_BIN: another build's binaries (a commit before, to compare with the same script).
bin=${BENCH_BIN:-target/release}
work=$(mktemp -d)
pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export RUST_LOG=warn
export NOTIFICATION_MAIL_DIR="$work/mail" NOTIFICATION_SMS_DIR="$work/sms"
# Every request is authorised, as in production: an administrator's API key is exchanged for a
# five-minute access token at the start of each phase (`bearer`), which every oha and curl
# call sends.
export ADMIN_EMAIL=bench@example.com ADMIN_PASSWORD="bench password $RANDOM$RANDOM"
# The processes of each service (one, or its two replicas), and PostgreSQL's.
order_pids=() payment_pids=() notification_pids=()
# `start NAME PREFIX PORT`: one process of a service on PORT, waited for.
start() {
  env "$2_SERVICE_PORT=$3" "$bin/$1" & pids+=($!)
  local -n of=${2,,}_pids
  of+=($!)
  until curl -fsS "http://127.0.0.1:$3/health" >/dev/null 2>&1; do sleep 0.1; done
}
case $BACKEND in
  sqlite)
    export ORDER_DATABASE_URL="sqlite://$work/order.db"
    export PAYMENT_DATABASE_URL="sqlite://$work/payment.db"
    export NOTIFICATION_DATABASE_URL="sqlite://$work/notification.db"
    start order-svc ORDER 8000; start payment-svc PAYMENT 8001; start notification-svc NOTIFICATION 8002
    ;;
  postgres | postgres-replicas)
    [ -n "${PGHOST:-}" ] || { echo "$BACKEND needs a PostgreSQL server in PGHOST/PGPORT/… (make bench)"; exit 1; }
    run=bench_$$
    for name in order payment notification gateway; do psql -qc "CREATE DATABASE ${run}_$name" postgres || exit 1; done
    server="postgres://$PGUSER:$PGPASSWORD@$PGHOST:${PGPORT:-5432}"
    export ORDER_DATABASE_URL=$server/${run}_order PAYMENT_DATABASE_URL=$server/${run}_payment
    export NOTIFICATION_DATABASE_URL=$server/${run}_notification PAYMENT_GATEWAY_DATABASE_URL=$server/${run}_gateway
    # One pool per process serves reads and writes alike there: as many connections as the
    # services' concurrency asks for (the server allows 300).
    export DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-32}
    if [ "$BACKEND" = postgres ]; then
      start order-svc ORDER 8000; start payment-svc PAYMENT 8001; start notification-svc NOTIFICATION 8002
    else
      export ORDER_PORT=8000 PAYMENT_PORT=8001 NOTIFICATION_PORT=8002
      export ORDER_1=127.0.0.1:8010 ORDER_2=127.0.0.1:8011 PAYMENT_1=127.0.0.1:8020 PAYMENT_2=127.0.0.1:8021
      export NOTIFICATION_1=127.0.0.1:8030 NOTIFICATION_2=127.0.0.1:8031
      export PAYMENT_GATEWAY_WEBHOOK_URL=http://127.0.0.1:8001/api/v1/payments/webhook
      haproxy -f .ci/haproxy.cfg -db >"$work/haproxy.log" 2>&1 & pids+=($!)
      start order-svc ORDER 8010; start order-svc ORDER 8011
      start payment-svc PAYMENT 8020; start payment-svc PAYMENT 8021
      start notification-svc NOTIFICATION 8030; start notification-svc NOTIFICATION 8031
      for port in 8000 8001 8002; do
        until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.1; done
      done
    fi
    ;;
  *) echo "unknown backend $BACKEND: sqlite, postgres or postgres-replicas"; exit 1 ;;
esac
order_pid=${order_pids[0]}
echo "#### backend: $BACKEND (order ${order_pids[*]}, payment ${payment_pids[*]}, notification ${notification_pids[*]})"

login=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" http://127.0.0.1:8000/api/v1/auth/login)
[[ $login =~ \"access_token\":\"([^\"]+)\" ]] || { echo "cannot sign in: $login"; exit 1; }
api_key=$(curl -fsS -H 'content-type: application/json' -H "authorization: Bearer ${BASH_REMATCH[1]}" \
  -d '{"name":"benchmark","role":"admin"}' http://127.0.0.1:8000/api/v1/auth/api-keys)
[[ $api_key =~ \"key\":\"(sk_[^\"]+)\" ]] || { echo "cannot create an API key: $api_key"; exit 1; }
api_key=${BASH_REMATCH[1]}
# Sets `auth` to the header of a fresh access token.
bearer() {
  local grant
  grant=$(curl -fsS -H 'content-type: application/json' -d "{\"api_key\":\"$api_key\"}" http://127.0.0.1:8000/api/v1/auth/token)
  [[ $grant =~ \"access_token\":\"([^\"]+)\" ]] || { echo "cannot get a token: $grant"; exit 1; }
  auth=(-H "authorization: Bearer ${BASH_REMATCH[1]}")
}
bearer

orders=http://127.0.0.1:8000/api/v1/orders/
imports=http://127.0.0.1:8000/api/v1/orders/imports
notifications=http://127.0.0.1:8002/api/v1/notifications/
olist=${OLIST_DIR:-../shared/data/olist}
total_of() { curl -fsS "${auth[@]}" -D - -o /dev/null "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-total-count"{print $2}'; }
# In the import's polling loop, without forking more than curl: `field NAME JSON` sets REPLY
# to a scalar field of a one-line JSON object; `secs FROM TO` sets it to µs timestamps' gap.
field() { local re="\"$1\":\"?([^\",}]*)"; if [[ $2 =~ $re ]]; then REPLY=${BASH_REMATCH[1]}; else REPLY=''; fi; }
secs() { local d=$(( $2 - $1 )); printf -v REPLY '%d.%02d' $(( d / 1000000 )) $(( d % 1000000 / 10000 )); }

# Phase 4, as a function so that IMPORT_ONLY=1 can run it alone.
import_phase() {
  echo "== 4. bulk import: $IMPORT_ORDERS orders (about $IMPORT_ROWS rows) as text/csv, notify=per_order"
  bearer
  if [ ! -d "$olist" ]; then
    echo "($olist not found: the import phase needs the Olist data and is skipped)"
    [ "$IMPORT_ONLY" = 1 ] && exit 1
  else
    python3 .ci/olist_import_csv.py "$olist" "$work/import.csv" --orders "$IMPORT_ORDERS" --rows "$IMPORT_ROWS"
    file_rows=$(( $(wc -l < "$work/import.csv") - 1 ))  # no field holds a line break
    file_orders=$(tail -n +2 "$work/import.csv" | cut -d, -f1 | sort -u | wc -l)
    file_bytes=$(stat -c %s "$work/import.csv")
    # The Order Service's VmRSS every 50 ms until the phase ends (µs timestamp, kB): the
    # largest of its replicas', whichever runs the import.
    ( while [ -r "/proc/$order_pid/status" ]; do
        largest=0
        for pid in "${order_pids[@]}"; do
          while read -r key kb _; do
            if [ "$key" = VmRSS: ]; then [ "$kb" -gt "$largest" ] && largest=$kb; break; fi
          done < "/proc/$pid/status"
        done
        echo "${EPOCHREALTIME/./} $largest"
        sleep 0.05
      done ) > "$work/rss.log" 2>/dev/null & sampler_pid=$!; pids+=($sampler_pid)
    sleep 0.2  # a few samples before the upload: the baseline
    # What the earlier phases left, not counted here.
    queued_before=$(total_of "${notifications}?limit=1")
    start=${EPOCHREALTIME/./}
    read -r code post_secs < <(curl -sS "${auth[@]}" -o "$work/import.json" -w '%{http_code} %{time_total}\n' \
      -H 'content-type: text/csv' --data-binary @"$work/import.csv" "$imports") || true
    if [ "$code" != 202 ]; then echo "the upload answered ${code:-nothing}: $(cat "$work/import.json" 2>/dev/null)"; exit 1; fi
    field id "$(cat "$work/import.json")"; id=$REPLY
    # Each poll, one curl on one connection per service: the import, the count of its paid
    # orders and the count of notifications accepted (the databases were fresh).
    poll=(curl -sS "${auth[@]}" "$imports/$id" -w '\n'
          --next -sS "${auth[@]}" -o /dev/null -w '%header{x-total-count}\n' "${orders}?batch_id=$id&status=paid&limit=1"
          --next -sS "${auth[@]}" -o /dev/null -w '%header{x-total-count}\n' "${notifications}?limit=1")
    final_at='' paid_at='' queued_at='' last_status='' next_progress=$(( start + 1000000 ))
    deadline=$(( start + IMPORT_TIMEOUT_SECS * 1000000 ))
    while :; do
      import_json='' paid='' queued=''
      { read -r import_json; read -r paid; read -r queued; } < <("${poll[@]}" 2>/dev/null) || true
      now=${EPOCHREALTIME/./}
      field status "$import_json"; status=$REPLY
      case $status in completed|completed_with_errors|failed) final_at=${final_at:-$now} ;; esac
      [[ $paid =~ ^[0-9]+$ ]] || paid=0
      [[ $queued =~ ^[0-9]+$ ]] && queued=$(( queued - queued_before )) || queued=0
      if [ "$paid" -ge "$IMPORT_ORDERS" ]; then paid_at=${paid_at:-$now}; fi
      if [ "$queued" -ge "$IMPORT_ORDERS" ]; then queued_at=${queued_at:-$now}; fi
      finished=0
      [ -n "$final_at" ] && [ -n "$paid_at" ] && [ -n "$queued_at" ] && finished=1
      if [ "$status" != "$last_status" ] || [ "$now" -ge "$next_progress" ] || [ "$finished" = 1 ]; then
        secs "$start" "$now"; t=$REPLY
        field processed_orders "$import_json"; processed=$REPLY
        field succeeded_orders "$import_json"; succeeded=$REPLY
        field failed_orders "$import_json"; failed=$REPLY
        printf '  %6ss  %-21s processed %5s  succeeded %5s  failed %s  | paid %5s  notifications accepted %5s\n' \
          "$t" "$status" "$processed" "$succeeded" "$failed" "$paid" "$queued"
        last_status=$status
        while [ "$next_progress" -le "$now" ]; do next_progress=$(( next_progress + 1000000 )); done
      fi
      [ "$finished" = 1 ] && break
      if [ -n "$final_at" ] && [ -z "$paid_at" ]; then
        echo "FAIL: the import ended $status with $paid of $IMPORT_ORDERS orders paid: $import_json"; exit 1
      fi
      if [ "$now" -ge "$deadline" ]; then
        echo "FAIL: after ${IMPORT_TIMEOUT_SECS}s the import is ${status:-unknown}, $paid of $IMPORT_ORDERS orders paid, $queued notifications accepted"
        exit 1
      fi
      sleep 0.05
    done
    kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
    done_at=$(( paid_at > queued_at ? paid_at : queued_at ))
    hwm=$(for pid in "${order_pids[@]}"; do awk '/^VmHWM/ { print $2 }' "/proc/$pid/status"; done | sort -n | tail -n 1)
    echo "file: $file_rows rows, $file_orders orders, $file_bytes bytes"
    awk -v p="$post_secs" -v s="$start" -v f="$final_at" -v a="$paid_at" -v q="$queued_at" -v d="$done_at" -v n="$IMPORT_ORDERS" 'BEGIN {
      printf "202 answered in %.3f s; import final after %.2f s; all %d orders paid after %.2f s, their notifications queued after %.2f s\n",
        p, (f - s) / 1e6, n, (a - s) / 1e6, (q - s) / 1e6
      printf "=> %d orders imported, paid and notified (queued) in %.2f s: %.0f orders/s\n", n, (d - s) / 1e6, n / ((d - s) / 1e6) }'
    awk -v s="$start" -v d="$done_at" -v hwm="$hwm" '
      $1 < s { base = $2 } $1 >= s && $1 <= d + 100000 && $2 > peak { peak = $2; at = $1 } $1 >= s { n++ }
      END { printf "Order Service RSS: %.1f MB before the upload, peak %.1f MB at %.2f s (%d samples during the import); VmHWM %.1f MB\n",
        base / 1024, peak / 1024, (at - s) / 1e6, n, hwm / 1024 }' "$work/rss.log"
    echo "import: $(curl -fsS "${auth[@]}" "$imports/$id")"
    echo "notification stats: $(curl -fsS "${auth[@]}" http://127.0.0.1:8002/api/v1/notifications/stats)"
  fi
}

if [ "$IMPORT_ONLY" = 1 ]; then import_phase; exit 0; fi

if [ -d "$olist" ]; then
  python3 .ci/olist_orders.py "$olist" "$work/orders.jsonl"
  bodies=(-Z "$work/orders.jsonl")
else
  echo "($olist not found: every request creates the same two-item order)"
  bodies=(-d '{"customer_email":"tanaka@example.co.jp","customer_name":"田中太郎","items":[{"product_name":"ノートPC","quantity":2,"unit_price":89800.0},{"product_name":"マウス","quantity":1,"unit_price":2480.0}],"currency":"JPY"}')
fi

# CPU seconds (user + system) the given processes have used so far, together.
cpu_of() {
  local pid total=0
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", t + ($14 + $15) / hz }' "/proc/$pid/stat")
  done
  echo "$total"
}
# PostgreSQL's server processes (its connections come and go only with the pools: they stay).
postgres_pids() { [ "$BACKEND" = sqlite ] || pgrep -x postgres; }
cpu_all() {
  echo "$(cpu_of "${order_pids[@]}") $(cpu_of "${payment_pids[@]}") $(cpu_of "${notification_pids[@]}") $(cpu_of $(postgres_pids))"
}

echo "== 1. order creation, concurrency 32, ${CREATE_SECS}s"
bearer
read -r cpu_order cpu_payment cpu_notification cpu_postgres <<<"$(cpu_all)"
start=$(date +%s.%N)
oha --no-tui -z "${CREATE_SECS}s" -c 32 -m POST -H 'content-type: application/json' "${auth[@]}" "${bodies[@]}" "$orders" \
  | grep -E 'Success rate|Requests/sec|Slowest|Fastest|Average|99.00%|\[201\]|\[[0-9]{3}\]'
# Done when no order awaits its payment and every paid order's confirmation is accepted.
until [ "$(total_of "${orders}?status=payment_processing&limit=1")" = 0 ] \
   && [ "$(total_of "http://127.0.0.1:8002/api/v1/notifications/?limit=1")" -ge "$(total_of "${orders}?status=paid&limit=1")" ]; do
  sleep 0.05
done
end=$(date +%s.%N)
created=$(total_of "${orders}?limit=1")
paid=$(total_of "${orders}?status=paid&limit=1")
accepted=$(total_of "${notifications}?limit=1")
awk -v n="$created" -v p="$paid" -v a="$accepted" -v s="$start" -v e="$end" 'BEGIN {
  printf "orders created %d, paid %d, confirmations accepted %d, in %.2f s: %.0f orders/s paid end to end\n", n, p, a, e - s, p / (e - s) }'
read -r now_order now_payment now_notification now_postgres <<<"$(cpu_all)"
awk -v p="$paid" -v o="$now_order" -v o0="$cpu_order" -v y="$now_payment" -v y0="$cpu_payment" \
    -v t="$now_notification" -v t0="$cpu_notification" -v g="$now_postgres" -v g0="$cpu_postgres" \
    -v s="$start" -v e="$end" 'BEGIN { o -= o0; y -= y0; t -= t0; g -= g0
  printf "CPU used: order %.1f s, payment %.1f s, notification %.1f s, PostgreSQL %.1f s; %.2f ms per paid order in all; %.2f of the 2 cores busy\n",
    o, y, t, g, (o + y + t + g) * 1000 / p, (o + y + t + g) / (e - s) }'

echo "== 2. GET /api/v1/orders/{id} at 2,000 requests/s, ${READ_SECS}s"
bearer
max_id=$created
oha --no-tui -z "${READ_SECS}s" -q 2000 -c 32 --latency-correction "${auth[@]}" --rand-regex-url "http://127[.]0[.]0[.]1:8000/api/v1/orders/[1-9][0-9]{0,$(( ${#max_id} - 2 ))}" \
  | grep -E 'Success rate|Requests/sec|50.00%|90.00%|99.00%|99.90%|Slowest|\[200\]|\[[0-9]{3}\]'

echo "== 3. resident memory afterwards"
for name in $(for p in "${order_pids[@]}"; do echo "order:$p"; done; for p in "${payment_pids[@]}"; do echo "payment:$p"; done; \
              for p in "${notification_pids[@]}"; do echo "notification:$p"; done); do
  pid=${name#*:}
  awk -v n="${name%%:*} ($pid)" '/VmRSS/ { printf "%-20s %6.1f MB\n", n, $2 / 1024 }' "/proc/$pid/status"
done

import_phase
