// Starts and stops the real processes the end-to-end tests run against: the three services
// and the dashboard's server, each from the binaries `make test` built, with their
// databases, mail folders and logs under target/e2e (wiped by global-setup). The process
// ids are kept in files there, so a test can stop a service and start it again, and the
// teardown finds them all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(__dirname, '..');
export const runDir = path.join(root, 'target', 'e2e');
// E2E_BIN_DIR=target/release runs the tests against a release build (after `make build`).
const binDir = path.resolve(root, process.env.E2E_BIN_DIR ?? path.join('target', 'debug'));

export type Part = 'order-svc' | 'payment-svc' | 'notification-svc' | 'app';

const ports: Record<Part, number> = { 'order-svc': 18000, 'payment-svc': 18001, 'notification-svc': 18002, app: 15173 };
const base = (part: Part) => `http://127.0.0.1:${ports[part]}`;

export const dashboardUrl = base('app');
export const orderServiceUrl = base('order-svc');
export const paymentServiceUrl = base('payment-svc');
export const notificationServiceUrl = base('notification-svc');

/// The name each part has on the dashboard.
export const serviceNames: Record<Exclude<Part, 'app'>, string> = {
  'order-svc': 'Order Service',
  'payment-svc': 'Payment Service',
  'notification-svc': 'Notification Service',
};

function environment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    ORDER_SERVICE_PORT: String(ports['order-svc']),
    PAYMENT_SERVICE_PORT: String(ports['payment-svc']),
    NOTIFICATION_SERVICE_PORT: String(ports['notification-svc']),
    ORDER_SERVICE_URL: orderServiceUrl,
    PAYMENT_SERVICE_URL: paymentServiceUrl,
    NOTIFICATION_SERVICE_URL: notificationServiceUrl,
    ORDER_DATABASE_URL: `sqlite://${runDir}/order_service.db`,
    PAYMENT_DATABASE_URL: `sqlite://${runDir}/payment_service.db`,
    NOTIFICATION_DATABASE_URL: `sqlite://${runDir}/notification_service.db`,
    NOTIFICATION_MAIL_DIR: path.join(runDir, 'mail'),
    NOTIFICATION_SMS_DIR: path.join(runDir, 'sms'),
    // Retries a little sooner than in production, so a restarted service is caught up quickly.
    OUTBOX_RETRY_BASE_MS: '200',
    CORS_ALLOWED_ORIGINS: dashboardUrl,
    LEPTOS_SITE_ADDR: `127.0.0.1:${ports.app}`,
    // The first administrator; the other people are invited by global-setup (identity.ts).
    ADMIN_EMAIL: 'admin@example.com',
    ADMIN_PASSWORD: 'the e2e admin password',
    // Short-lived tokens, so that the runs exercise their renewal (and an ended session is
    // noticed by an open page within half a minute).
    AUTH_ACCESS_TOKEN_TTL_SECS: '60',
    // One import at a time, so that a test can show one waiting for another.
    IMPORT_CONCURRENCY: '1',
  };
}

const pidFile = (part: Part) => path.join(runDir, `${part}.pid`);
// The dashboard has no /health; its stylesheet answers as soon as it serves.
const probeUrl = (part: Part) => (part === 'app' ? `${dashboardUrl}/pkg/dashboard.css` : `${base(part)}/health`);

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function start(part: Part): Promise<void> {
  const binary = path.join(binDir, part);
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: build it first (make test does)`);
  if (await answers(probeUrl(part))) throw new Error(`port ${ports[part]} is already taken: is another test run going?`);
  const log = fs.openSync(path.join(runDir, `${part}.log`), 'a');
  // The dashboard's server finds its site (target/site) relative to the workspace root.
  const child = spawn(binary, [], { cwd: root, env: environment(), detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.writeFileSync(pidFile(part), String(child.pid));
  await waitUntil(`${part} answers`, () => answers(probeUrl(part)));
}

/// Stops a part the way an operator would (SIGTERM) and waits until it is gone.
export async function stop(part: Part): Promise<void> {
  if (!fs.existsSync(pidFile(part))) return;
  const pid = Number(fs.readFileSync(pidFile(part), 'utf8'));
  fs.rmSync(pidFile(part));
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  await waitUntil(`${part} has stopped`, async () => !alive(pid), 15_000).catch(() => process.kill(pid, 'SIGKILL'));
}

export const allParts: Part[] = ['payment-svc', 'notification-svc', 'order-svc', 'app'];

export async function startAll(): Promise<void> {
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  for (const part of allParts) await start(part);
}

export async function stopAll(): Promise<void> {
  for (const part of [...allParts].reverse()) await stop(part);
}
