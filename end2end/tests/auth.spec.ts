// Signing in and what each role sees: the sign-in form (and where it goes back to), a viewer's
// pages without one button that changes anything, an operator's whole order flow, signing
// out, an ended session sending the user back to sign in, and the administrator's page for
// people and API keys.
import { test, expect, open, createOrder, uniqueTag } from '../fixtures';
import { adminEmail, adminPassword, dashboardSession, endSession, people } from '../identity';
import { dashboardUrl, orderServiceUrl } from '../platform';
import type { Page } from '@playwright/test';

const shot = (name: string) => `test-results/screenshots/${name}.png`;

async function signInWithTheForm(page: Page, email: string, password: string) {
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.describe('signed out', () => {
  test.use({ role: 'anonymous' });

  test('a page asks for sign-in first and is shown once signed in, with the user in the header', async ({ page }) => {
    await page.goto('/orders?status=paid');
    await expect(page).toHaveURL(/\/login\?next=%2Forders%3Fstatus%3Dpaid$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link')).toHaveCount(0);
    await page.screenshot({ path: shot('login'), fullPage: true });

    await signInWithTheForm(page, people.operator.email, 'not the password');
    await expect(page.locator('[data-notice]')).toHaveText('The e-mail address or the password is not right.');
    await expect(page).toHaveURL(/error=invalid/);

    await signInWithTheForm(page, people.operator.email, people.operator.password);
    await expect(page).toHaveURL('/orders?status=paid');
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();
    await expect(page.locator(`[data-signed-in="${people.operator.email}"]`)).toContainText(people.operator.name);
    await expect(page.locator('[data-role]')).toHaveText('Operator');
    // The session is a cookie the page's scripts cannot read.
    const cookie = (await page.context().cookies()).find((c) => c.name === 'om_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('om_session');
  });

  test("the dashboard's own sign-in endpoints refuse other sites", async ({ request }) => {
    const forged = await fetch(`${dashboardUrl}/session/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: new URLSearchParams({ email: adminEmail, password: adminPassword }).toString(),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie()).toHaveLength(0);
    // Nor does a service take the session cookie instead of a token.
    const session = await dashboardSession(adminEmail, adminPassword);
    const withCookie = await fetch(`${orderServiceUrl}/api/v1/orders/`, { headers: { cookie: `om_session=${session}` } });
    expect(withCookie.status).toBe(401);
    void request;
  });
});

test.describe('as a viewer', () => {
  test.use({ role: 'viewer' });

  test('every page is there, but no button that changes anything', async ({ page, request }) => {
    const order = await createOrder(request, `${uniqueTag('viewer')}@example.jp`);
    await open(page, '/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link')).toHaveText(['Overview', 'Orders', 'Imports', 'Notifications']);
    await expect(page.locator('[data-role]')).toHaveText('Viewer');

    await open(page, '/orders');
    await expect(page.locator(`tr[data-order-id="${order.id}"]`)).toBeVisible();
    await expect(page.getByRole('link', { name: 'New order' })).toHaveCount(0);

    await open(page, `/orders/${order.id}`);
    await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Paid');
    await expect(page.locator('[data-payment-status]')).toHaveText('Completed');
    await expect(page.getByRole('group', { name: 'Order actions' }).getByRole('button')).toHaveCount(0);
    await page.screenshot({ path: shot('order-detail-viewer'), fullPage: true });

    await open(page, '/imports');
    await expect(page.getByLabel('CSV file')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);
    await expect(page.getByText('Your role can follow imports but not start them.')).toBeVisible();

    await open(page, '/orders/new');
    await expect(page.getByText('Your role can look at orders but not create them.')).toBeVisible();
    await open(page, '/admin');
    await expect(page.getByText('Only administrators manage people and API keys.')).toBeVisible();
  });
});

test.describe('as an operator', () => {
  test.use({ role: 'operator' });

  test('an order goes from the form to delivered', async ({ page }) => {
    await open(page, '/orders/new');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
    await page.getByLabel('E-mail').fill(`${uniqueTag('operator')}@example.jp`);
    await page.getByLabel('Customer name').fill('山本 次郎');
    await page.getByLabel('Product 1').fill('ランプ');
    await page.getByLabel('Unit price (¥)').fill('7800');
    await page.getByRole('button', { name: 'Create order' }).click();
    await expect(page).toHaveURL(/\/orders\/\d+$/);
    const status = page.getByRole('heading', { level: 1 }).locator('[data-status]');
    await expect(status).toHaveText('Paid');
    const actions = page.getByRole('group', { name: 'Order actions' });
    await actions.getByRole('button', { name: 'Mark shipped' }).click();
    await expect(status).toHaveText('Shipped');
    await actions.getByRole('button', { name: 'Mark delivered' }).click();
    await expect(status).toHaveText('Delivered');
    await expect(page.locator('[data-template="ORDER_SHIPPED"]')).toBeVisible();
  });
});

test.describe('a session of its own', () => {
  // An ended session's last requests are answered 401, which the browser reports.
  test.use({ role: 'anonymous', allowedConsoleErrors: /status of 401/ });

  test('signing out ends the session', async ({ page, context }) => {
    await page.goto('/login');
    await signInWithTheForm(page, adminEmail, adminPassword);
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();
    const session = (await context.cookies()).find((c) => c.name === 'om_session')!.value;

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL('/login?signed_out=1');
    await expect(page.locator('[data-notice]')).toHaveText('You have signed out.');
    expect((await context.cookies()).find((c) => c.name === 'om_session')).toBeUndefined();
    await page.goto('/');
    await expect(page).toHaveURL('/login?next=%2F');
    // The session is over at the Order Service too, not just forgotten by the browser.
    const refresh = await fetch(`${orderServiceUrl}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session }),
    });
    expect(refresh.status).toBe(401);
  });

  test('an ended session sends the user to sign in and back to where they were', async ({ page, context, request }) => {
    test.setTimeout(120_000);
    const order = await createOrder(request, `${uniqueTag('ended')}@example.jp`);
    const signIn = async () => {
      const session = await dashboardSession(people.operator.email, people.operator.password);
      await context.addCookies([{ name: 'om_session', value: session, url: dashboardUrl, httpOnly: true, sameSite: 'Strict' }]);
      return session;
    };

    // Ended while away: the next page asks for sign-in, then returns to that page.
    await endSession(await signIn());
    await page.goto(`/orders/${order.id}`);
    await expect(page).toHaveURL(`/login?expired=1&next=%2Forders%2F${order.id}`);
    await expect(page.locator('[data-notice]')).toHaveText('Your session has ended. Sign in again to go on where you were.');
    await signInWithTheForm(page, people.operator.email, people.operator.password);
    await expect(page).toHaveURL(`/orders/${order.id}`);
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();

    // Ended while the page is open: once its token is due for renewal (half of the run's
    // 60-second tokens), the next action finds the session over and goes to sign in.
    const open = (await context.cookies()).find((c) => c.name === 'om_session')!.value;
    await page.getByRole('group', { name: 'Order actions' }).getByRole('button', { name: 'Mark shipped' }).waitFor();
    await endSession(open);
    await page.waitForTimeout(31_000);
    await page.getByRole('group', { name: 'Order actions' }).getByRole('button', { name: 'Mark shipped' }).click();
    await expect(page).toHaveURL(`/login?expired=1&next=%2Forders%2F${order.id}`);
    const stored = await (await request.get(`${orderServiceUrl}/api/v1/orders/${order.id}`)).json();
    expect(stored.status).toBe('paid');
  });
});

test('an administrator invites a person who then signs in, changes their role, and hands out and revokes an API key', async ({ page, browser }) => {
  await open(page, '/admin');
  await expect(page.locator(`tr[data-user="${people.viewer.email}"]`)).toContainText('Active');
  const email = `${uniqueTag('invited')}@example.jp`;
  const invite = page.getByRole('form', { name: 'Invite a person' });
  await invite.getByLabel('E-mail address').fill(email);
  await invite.getByLabel('Name').fill('招待 花子');
  await invite.getByLabel('Role').selectOption('operator');
  await invite.getByRole('button', { name: 'Invite' }).click();
  const link = await page.locator('[data-secret="invitation-link"]').textContent();
  expect(link).toMatch(new RegExp(`^${dashboardUrl}/invite\\?token=inv_`));
  await expect(page.locator(`tr[data-user="${email}"] [data-status]`)).toHaveText('Invited');
  await page.screenshot({ path: shot('admin'), fullPage: true });

  const invited = await browser.newContext();
  const theirs = await invited.newPage();
  await theirs.goto(link!);
  await expect(theirs.locator('main[data-hydrated="true"]')).toBeAttached();
  await theirs.getByLabel('New password').fill('a password of their own');
  await theirs.getByLabel('The same again').fill('a password of their own');
  await theirs.getByRole('button', { name: 'Set password' }).click();
  await expect(theirs).toHaveURL('/login?password_set=1');
  await signInWithTheForm(theirs, email, 'a password of their own');
  await expect(theirs.locator('[data-role]')).toHaveText('Operator');

  // The administrator makes them a viewer: their next page says so, and offers no action.
  await page.getByLabel(`Role of ${email}`).selectOption('viewer');
  await expect(page.getByLabel(`Role of ${email}`)).toHaveValue('viewer');
  // The change is a request in flight: their page is loaded again until it has landed.
  await expect(async () => {
    await theirs.goto('/orders');
    await expect(theirs.locator('[data-role]')).toHaveText('Viewer', { timeout: 1000 });
  }).toPass();
  await expect(theirs.locator('main[data-hydrated="true"]')).toBeAttached();
  await expect(theirs.getByRole('link', { name: 'New order' })).toHaveCount(0);
  await invited.close();

  const keys = page.getByRole('form', { name: 'Create an API key' });
  const name = uniqueTag('key');
  await keys.getByLabel('Name').fill(name);
  await keys.getByLabel('Role').selectOption('viewer');
  await keys.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.locator('[data-secret="api-key"]').textContent())!;
  expect(key).toMatch(/^sk_/);
  const exchange = () =>
    fetch(`${orderServiceUrl}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: key }),
    });
  expect((await exchange()).status).toBe(200);
  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.locator(`tr[data-api-key="${name}"] [data-status]`)).toHaveAttribute('data-status', 'revoked');
  expect((await exchange()).status).toBe(401);
});
