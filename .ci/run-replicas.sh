#!/usr/bin/env bash
# make run-replicas: the platform as it runs beyond one machine — PostgreSQL, two replicas of each
# service on it, HAProxy in front of each service on the usual ports (.ci/haproxy.cfg), and the
# dashboard against the balancer — from the given build folder (target/release by default).
# Everything is kept under data/replicas/ (the database cluster, the mail folder, the logs);
# Ctrl-C stops it all, the database included. Run from the workspace root.
#
#   service        balancer           replicas
#   Order          127.0.0.1:8000     :8010, :8011
#   Payment        127.0.0.1:8001     :8020, :8021
#   Notification   127.0.0.1:8002     :8030, :8031
#   PostgreSQL     127.0.0.1:5433     (user `platform`, password in data/replicas/postgres.password)
set -uo pipefail
bin=${1:-target/release}
pg_port=${REPLICAS_PG_PORT:-5433}
state=data/replicas
mkdir -p "$state/logs"
state=$(cd "$state" && pwd)
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:5173}

pids=()
pg_ctl=
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  [ -n "$pg_ctl" ] && as_postgres "$pg_ctl" -D "$state/postgres" -m fast stop >/dev/null
  echo "stopped."
}
trap stop_all INT TERM EXIT

# Root may not run PostgreSQL: its files and processes belong to the `postgres` account the
# Debian package makes.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---- PostgreSQL: a cluster of its own, made on the first run and kept -------------------------
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is not installed (make run-replicas installs it)" >&2; exit 1; }
pg_ctl=$pg_bin/pg_ctl
if [ ! -s "$state/postgres/PG_VERSION" ]; then
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$state/postgres.password"
  chmod 600 "$state/postgres.password"
  mkdir -p "$state/postgres"
  pwfile=$(mktemp)
  cp "$state/postgres.password" "$pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres "$state/postgres" "$pwfile"; fi
  as_postgres "$pg_bin/initdb" -D "$state/postgres" -U platform --pwfile="$pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$state/logs/initdb.log" 2>&1 \
    || { rm -f "$pwfile"; echo "initdb failed: see $state/logs/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
fi
pg_password=$(cat "$state/postgres.password")
as_postgres "$pg_ctl" -D "$state/postgres" -l "$state/postgres/server.log" -w \
  -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
  || { echo "PostgreSQL did not start: see $state/postgres/server.log" >&2; pg_ctl=; exit 1; }
database_url() { echo "postgres://platform:$pg_password@127.0.0.1:$pg_port/$1"; }
fresh_order_database=0
for name in order_service payment_service notification_service payment_gateway; do
  exists=$(psql "$(database_url postgres)" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")
  if [ "$exists" != 1 ]; then
    psql "$(database_url postgres)" -qc "CREATE DATABASE $name" || exit 1
    [ "$name" = order_service ] && fresh_order_database=1
  fi
done

# ---- The first administrator, as make run does: generated on a fresh database, shown once -----
admin_email=${ADMIN_EMAIL:-admin@example.com}
if [ -z "${ADMIN_PASSWORD:-}" ] && [ "$fresh_order_database" = 1 ]; then
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  sign_in="$admin_email / $ADMIN_PASSWORD   (generated now and shown only once: keep it)"
elif [ "$fresh_order_database" = 1 ]; then
  sign_in="$admin_email / the ADMIN_PASSWORD you set"
else
  sign_in="$admin_email, or an account an administrator invited (passwords as set before)"
fi
export ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=${ADMIN_PASSWORD:-}

# ---- Two replicas of each service, then the balancer in front of them ------------------------
export ORDER_DATABASE_URL=$(database_url order_service)
export PAYMENT_DATABASE_URL=$(database_url payment_service)
export NOTIFICATION_DATABASE_URL=$(database_url notification_service)
export PAYMENT_GATEWAY_DATABASE_URL=$(database_url payment_gateway)
# Every peer is reached through the balancer, never one replica.
export ORDER_SERVICE_URL=http://127.0.0.1:8000 PAYMENT_SERVICE_URL=http://127.0.0.1:8001
export NOTIFICATION_SERVICE_URL=http://127.0.0.1:8002
export NOTIFICATION_MAIL_DIR=$state/mail NOTIFICATION_SMS_DIR=$state/sms
# The gateway reports deferred captures to the Payment Service as a whole, not to one replica.
export PAYMENT_GATEWAY_WEBHOOK_URL=http://127.0.0.1:8001/api/v1/payments/webhook
export ORDER_PORT=8000 PAYMENT_PORT=8001 NOTIFICATION_PORT=8002
export ORDER_1=127.0.0.1:8010 ORDER_2=127.0.0.1:8011 PAYMENT_1=127.0.0.1:8020 PAYMENT_2=127.0.0.1:8021
export NOTIFICATION_1=127.0.0.1:8030 NOTIFICATION_2=127.0.0.1:8031

wait_for() {
  for _ in $(seq 1 150); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$1 did not answer" >&2
  return 1
}
start_replica() {  # binary, PREFIX, port, n
  env "$2_SERVICE_PORT=$3" "$bin/$1" >"$state/logs/$1-$4.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$3/health" || exit 1
}
# The Order Service first (the others fetch its keys), its first replica alone (it makes the
# first administrator and the signing key; the second finds them).
start_replica order-svc ORDER 8010 1
start_replica order-svc ORDER 8011 2
start_replica payment-svc PAYMENT 8020 1
start_replica payment-svc PAYMENT 8021 2
start_replica notification-svc NOTIFICATION 8030 1
start_replica notification-svc NOTIFICATION 8031 2
haproxy -f .ci/haproxy.cfg -db >"$state/logs/haproxy.log" 2>&1 &
pids+=($!)
"$bin/app" >"$state/logs/dashboard.log" 2>&1 &
pids+=($!)
for probe in http://127.0.0.1:8000/health http://127.0.0.1:8001/health http://127.0.0.1:8002/health \
  "http://$LEPTOS_SITE_ADDR/pkg/dashboard.css"; do
  wait_for "$probe" || exit 1
done

cat <<MSG

  Admin dashboard       http://$LEPTOS_SITE_ADDR
  Sign in               $sign_in
  Order Service         http://127.0.0.1:8000   replicas :8010 :8011   (API docs: /docs)
  Payment Service       http://127.0.0.1:8001   replicas :8020 :8021
  Notification Service  http://127.0.0.1:8002   replicas :8030 :8031
  Metrics               http://127.0.0.1:8010/metrics, … (each replica's own)
  PostgreSQL            postgres://platform@127.0.0.1:$pg_port (password in $state/postgres.password)
  Logs, sent e-mails    $state/logs/, $state/mail/

  Press Ctrl-C to stop them all. A replica killed meanwhile (kill -9 <pid>) leaves the
  balancer sending its share to the other; its claimed work is taken over when its leases end.

MSG
# Until Ctrl-C: one process ending is what replicas are for, not a reason to stop the rest.
wait "${pids[@]}"
