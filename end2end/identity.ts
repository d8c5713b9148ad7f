// The people of the end-to-end runs and their sessions. global-setup invites an operator and
// a viewer (the first administrator comes from ADMIN_EMAIL / ADMIN_PASSWORD), signs each in
// through the dashboard's own sign-in endpoint and keeps the session cookie as a Playwright
// storage state, so that a test starts signed in as the role it names. Calls the tests make
// to the services directly carry a fresh token from an administrator's API key.
import fs from 'node:fs';
import path from 'node:path';
import { dashboardUrl, orderServiceUrl, runDir } from './platform';

export type RoleName = 'admin' | 'operator' | 'viewer';

export const adminEmail = 'admin@example.com';
export const adminPassword = 'the e2e admin password';
export const people: Record<Exclude<RoleName, 'admin'>, { email: string; name: string; password: string }> = {
  operator: { email: 'operator@example.com', name: '鈴木 オペレーター', password: 'the operator password' },
  viewer: { email: 'viewer@example.com', name: '佐藤 ビューアー', password: 'the viewer password' },
};

const apiKeyFile = () => path.join(runDir, 'admin-api-key');
export const storageStateOf = (role: RoleName) => path.join(runDir, `state-${role}.json`);

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

/// An access token of the Order Service for `email`.
export async function signInAtTheService(email: string, password: string): Promise<string> {
  const response = await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    }),
    `signing in as ${email}`,
  );
  return (await response.json()).access_token;
}

/// Invites `email` with `role` as the administrator `token`; returns the invitation's token.
export async function invite(token: string, email: string, name: string, role: string): Promise<string> {
  const response = await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ email, display_name: name, role }),
    }),
    `inviting ${email}`,
  );
  return (await response.json()).invitation.token;
}

export async function acceptInvitation(invitation: string, password: string): Promise<void> {
  await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: invitation, password }),
    }),
    'accepting an invitation',
  );
}

/// Signs in through the dashboard, as the sign-in form does; returns the session cookie.
export async function dashboardSession(email: string, password: string): Promise<string> {
  const response = await fetch(`${dashboardUrl}/session/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: dashboardUrl },
    body: new URLSearchParams({ email, password, next: '/' }).toString(),
  });
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('om_session='));
  if (response.status !== 303 || !cookie) throw new Error(`dashboard sign-in of ${email}: ${response.status}`);
  return cookie.split(';')[0].slice('om_session='.length);
}

/// Ends a session at the Order Service, as signing out elsewhere (or its expiry) would.
export async function endSession(refreshToken: string): Promise<void> {
  await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }),
    'ending a session',
  );
}

function writeStorageState(role: RoleName, session: string): void {
  const cookie = {
    name: 'om_session',
    value: session,
    domain: '127.0.0.1',
    path: '/',
    expires: Math.floor(Date.now() / 1000) + 24 * 3600,
    httpOnly: true,
    secure: false,
    sameSite: 'Strict',
  };
  fs.writeFileSync(storageStateOf(role), JSON.stringify({ cookies: [cookie], origins: [] }));
}

/// The people, their sessions and the administrator's API key, for the whole run.
export async function preparePeople(): Promise<void> {
  const admin = await signInAtTheService(adminEmail, adminPassword);
  for (const [role, person] of Object.entries(people)) {
    await acceptInvitation(await invite(admin, person.email, person.name, role), person.password);
  }
  const key = await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: 'end-to-end tests', role: 'admin' }),
    }),
    'creating the API key',
  );
  fs.writeFileSync(apiKeyFile(), (await key.json()).key);
  writeStorageState('admin', await dashboardSession(adminEmail, adminPassword));
  for (const [role, person] of Object.entries(people)) {
    writeStorageState(role as RoleName, await dashboardSession(person.email, person.password));
  }
}

/// A fresh administrator's access token for calling the services directly.
export async function apiToken(): Promise<string> {
  const response = await ok(
    await fetch(`${orderServiceUrl}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: fs.readFileSync(apiKeyFile(), 'utf8') }),
    }),
    'exchanging the API key',
  );
  return (await response.json()).access_token;
}
