#!/usr/bin/env bash
# Starts the three services and the dashboard from the given build folder (target/release by
# default), waits until each answers, prints their URLs, and stops them all when any of them
# exits or on Ctrl-C. Settings come from the environment (see README), e.g. ORDER_SERVICE_PORT.
# Run from the workspace root: the dashboard serves its WASM and CSS from target/site.
set -uo pipefail
bin=${1:-target/release}
mkdir -p data

# The dashboard binary reads its address at run time; without this it would take leptos's
# default (:3000) rather than the workspace's site-addr.
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:5173}

pids=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  echo "stopped."
}
trap stop_all INT TERM EXIT

"$bin/payment-svc" & pids+=($!)
"$bin/notification-svc" & pids+=($!)
"$bin/order-svc" & pids+=($!)
"$bin/app" & pids+=($!)

order="http://127.0.0.1:${ORDER_SERVICE_PORT:-8000}"
payment="http://127.0.0.1:${PAYMENT_SERVICE_PORT:-8001}"
notification="http://127.0.0.1:${NOTIFICATION_SERVICE_PORT:-8002}"
dashboard="http://$LEPTOS_SITE_ADDR"
for probe in "$order/health" "$payment/health" "$notification/health" "$dashboard/pkg/dashboard.css"; do
  for _ in $(seq 1 100); do
    curl -fsS "$probe" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$probe" >/dev/null 2>&1 || { echo "$probe did not answer" >&2; exit 1; }
done

cat <<MSG

  Admin dashboard       $dashboard
  Order Service         $order        (API docs: $order/docs)
  Payment Service       $payment        (API docs: $payment/docs)
  Notification Service  $notification        (API docs: $notification/docs)
  Sent e-mails          ./data/mail/*.eml

  Press Ctrl-C to stop them all.

MSG
wait -n "${pids[@]}"
echo "a service exited; stopping the others." >&2
