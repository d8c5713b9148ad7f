#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: starts the three release binaries on fresh databases in a
# temporary folder and drives them over loopback with oha.
#   1. order creation end to end: POST /api/v1/orders/ at concurrency 32 for $CREATE_SECS s,
#      with the real order shapes of the Olist dataset (../shared/data/olist, turned into
#      request bodies by olist_orders.py), then the time until every order is paid and its
#      confirmation accepted by the Notification Service;
#   2. GET /api/v1/orders/{id} at a fixed 2,000 requests/s for $READ_SECS s (P50/P99);
#   3. resident memory of each service afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
CREATE_SECS=${CREATE_SECS:-20}
READ_SECS=${READ_SECS:-20}
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export RUST_LOG=warn
export ORDER_DATABASE_URL="sqlite://$work/order.db"
export PAYMENT_DATABASE_URL="sqlite://$work/payment.db"
export NOTIFICATION_DATABASE_URL="sqlite://$work/notification.db"
export NOTIFICATION_MAIL_DIR="$work/mail" NOTIFICATION_SMS_DIR="$work/sms"
"$bin/payment-svc" & pids+=($!); payment_pid=$!
"$bin/notification-svc" & pids+=($!); notification_pid=$!
"$bin/order-svc" & pids+=($!); order_pid=$!
for port in 8000 8001 8002; do
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.1; done
done

orders=http://127.0.0.1:8000/api/v1/orders/
olist=${OLIST_DIR:-../shared/data/olist}
if [ -d "$olist" ]; then
  python3 .ci/olist_orders.py "$olist" "$work/orders.jsonl"
  bodies=(-Z "$work/orders.jsonl")
else
  echo "($olist not found: every request creates the same two-item order)"
  bodies=(-d '{"customer_email":"tanaka@example.co.jp","customer_name":"田中太郎","items":[{"product_name":"ノートPC","quantity":2,"unit_price":89800.0},{"product_name":"マウス","quantity":1,"unit_price":2480.0}],"currency":"JPY"}')
fi
total_of() { curl -fsS -D - -o /dev/null "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-total-count"{print $2}'; }

echo "== 1. order creation, concurrency 32, ${CREATE_SECS}s"
start=$(date +%s.%N)
oha --no-tui -z "${CREATE_SECS}s" -c 32 -m POST -H 'content-type: application/json' "${bodies[@]}" "$orders" \
  | grep -E 'Success rate|Requests/sec|Slowest|Fastest|Average|99.00%|\[201\]|\[[0-9]{3}\]'
# Done when no order awaits its payment and every paid order's confirmation is accepted.
until [ "$(total_of "${orders}?status=payment_processing&limit=1")" = 0 ] \
   && [ "$(total_of "http://127.0.0.1:8002/api/v1/notifications/?limit=1")" -ge "$(total_of "${orders}?status=paid&limit=1")" ]; do
  sleep 0.05
done
end=$(date +%s.%N)
created=$(total_of "${orders}?limit=1")
paid=$(total_of "${orders}?status=paid&limit=1")
accepted=$(total_of "http://127.0.0.1:8002/api/v1/notifications/?limit=1")
awk -v n="$created" -v p="$paid" -v a="$accepted" -v s="$start" -v e="$end" 'BEGIN {
  printf "orders created %d, paid %d, confirmations accepted %d, in %.2f s: %.0f orders/s paid end to end\n", n, p, a, e - s, p / (e - s) }'

echo "== 2. GET /api/v1/orders/{id} at 2,000 requests/s, ${READ_SECS}s"
max_id=$created
oha --no-tui -z "${READ_SECS}s" -q 2000 -c 32 --latency-correction --rand-regex-url "http://127[.]0[.]0[.]1:8000/api/v1/orders/[1-9][0-9]{0,$(( ${#max_id} - 2 ))}" \
  | grep -E 'Success rate|Requests/sec|50.00%|90.00%|99.00%|99.90%|Slowest|\[200\]|\[[0-9]{3}\]'

echo "== 3. resident memory afterwards"
for name in order:$order_pid payment:$payment_pid notification:$notification_pid; do
  pid=${name#*:}
  awk -v n="${name%%:*}" '/VmRSS/ { printf "%-13s %6.1f MB\n", n, $2 / 1024 }' "/proc/$pid/status"
done
