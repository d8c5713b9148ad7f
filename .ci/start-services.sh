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

# The first administrator. On a fresh Order Service database and without ADMIN_PASSWORD, a
# password is generated here and shown once, in the banner below; it is stored nowhere but as
# the account's Argon2 hash. Later starts find the account and leave it alone.
# One DATABASE_URL would be every service's fallback, and so one database for all three.
if [ -n "${DATABASE_URL:-}" ]; then
  echo "DATABASE_URL is set: the three services would share that one database." >&2
  echo "Give each its own: ORDER_DATABASE_URL, PAYMENT_DATABASE_URL, NOTIFICATION_DATABASE_URL." >&2
  exit 2
fi

admin_email=${ADMIN_EMAIL:-admin@example.com}
order_db=${ORDER_DATABASE_URL:-sqlite://data/order_service.db}
order_db=${order_db#sqlite://}; order_db=${order_db%%\?*}
if [ -z "${ADMIN_PASSWORD:-}" ] && [ ! -e "$order_db" ]; then
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export ADMIN_PASSWORD
  sign_in="$admin_email / $ADMIN_PASSWORD   (generated now and shown only once: keep it)"
elif [ -n "${ADMIN_PASSWORD:-}" ] && [ ! -e "$order_db" ]; then
  sign_in="$admin_email / the ADMIN_PASSWORD you set"
else
  sign_in="$admin_email, or an account an administrator invited (passwords as set before)"
fi

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
  Sign in               $sign_in
  Order Service         $order        (API docs: $order/docs)
  Payment Service       $payment        (API docs: $payment/docs)
  Notification Service  $notification        (API docs: $notification/docs)
  Sent e-mails          ./data/mail/*.eml

  Press Ctrl-C to stop them all.

MSG
wait -n "${pids[@]}"
echo "a service exited; stopping the others." >&2
