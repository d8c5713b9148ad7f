// One service stopped: every page says which one, keeps showing what it can, and nothing is
// lost — work waits in the Order Service's outbox and completes once the service is back.
import { test, expect, open, createOrder, uniqueTag } from '../fixtures';
import { orderServiceUrl, start, stop } from '../platform';

// The browser reports each refused connection to a stopped service in its console.
test.use({ allowedConsoleErrors: /ERR_CONNECTION_REFUSED|Failed to load resource/ });

test('with the Payment Service stopped, pages say so and orders still get paid once it is back', async ({ page, request }) => {
  const earlier = await createOrder(request, `${uniqueTag('down')}@example.jp`, [['花瓶', 1, 12000]]);
  await stop('payment-svc');
  try {
    await open(page, '/');
    await expect(page.locator('[data-health="Payment Service"]')).toHaveAttribute('data-up', 'false');
    await expect(page.locator('[data-health="Payment Service"]')).toContainText('Payment Service: down');
    await expect(page.locator('[data-health="Order Service"]')).toHaveAttribute('data-up', 'true');
    await expect(page.locator('[data-figure="orders-total"]')).toBeVisible();

    await open(page, `/orders/${earlier.id}`);
    const payment = page.getByRole('region', { name: 'Payment' });
    await expect(payment.getByRole('alert')).toContainText('Payment Service unavailable');
    await expect(payment.getByRole('alert')).toContainText('shipping and cancelling still work');
    // The rest of the page is there.
    await expect(page.locator('[data-total]')).toHaveText('¥12,000');
    await expect(page.getByRole('region', { name: 'Notifications' })).toBeVisible();
    await expect(page.getByRole('group', { name: 'Order actions' }).getByRole('button', { name: 'Mark shipped' })).toBeVisible();

    // An order created now waits for its payment instead of failing.
    await open(page, '/orders/new');
    await page.getByLabel('E-mail').fill(`${uniqueTag('waiting')}@example.jp`);
    await page.getByLabel('Customer name').fill('山田太郎');
    await page.getByLabel('Product 1').fill('時計');
    await page.getByLabel('Unit price (¥)').fill('25000');
    await page.getByRole('button', { name: 'Create order' }).click();
    await expect(page).toHaveURL(/\/orders\/\d+$/);
    await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Payment processing');
  } finally {
    await start('payment-svc');
  }
  // The Order Service retries the payment; the open page follows it to paid.
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Paid', { timeout: 30_000 });
  await expect(page.locator('[data-payment-status]')).toHaveText('Completed');
});

test('with the Order Service stopped, order pages say so and the rest still works', async ({ page }) => {
  // Signed in with the Order Service up: while it is down, the session's last token serves.
  await open(page, '/');
  await stop('order-svc');
  try {
    await open(page, '/orders');
    await expect(page.getByRole('alert')).toContainText('Order Service unavailable');
    await expect(page.getByRole('alert')).toContainText('Notifications can still be browsed');

    await open(page, '/imports');
    await expect(page.getByRole('alert')).toContainText('Order Service unavailable');
    await expect(page.getByRole('alert')).toContainText('the imports show again once the Order Service answers');

    await open(page, '/');
    await expect(page.locator('[data-health="Order Service"]')).toHaveAttribute('data-up', 'false');
    await expect(page.locator('[data-figure="queue-sent"]')).toBeVisible();

    // Client-side navigation to a page of a healthy service still works.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notifications' }).click();
    await expect(page).toHaveURL('/notifications');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Notifications');
    await expect(page.getByRole('alert')).toHaveCount(0);

    // A submitted form reports the outage beside it instead of losing the input.
    await open(page, '/orders/new');
    await page.getByLabel('E-mail').fill('outage@example.jp');
    await page.getByLabel('Customer name').fill('停電');
    await page.getByLabel('Product 1').fill('懐中電灯');
    await page.getByLabel('Unit price (¥)').fill('1500');
    await page.getByRole('button', { name: 'Create order' }).click();
    await expect(page.getByRole('alert')).toContainText('Order Service unavailable');
    await expect(page).toHaveURL('/orders/new');
    await expect(page.getByLabel('E-mail')).toHaveValue('outage@example.jp');
  } finally {
    await start('order-svc');
  }
});

test('with the Payment Service stopped, an import waits for the one before it, shown as queued, then runs', async ({ page, request }) => {
  // The end-to-end platform runs one import at a time (IMPORT_CONCURRENCY=1, platform.ts).
  const csv = (tag: string) =>
    `order_ref,customer_email,customer_name,product_name,quantity,unit_price\n${tag}-1,${tag}@example.jp,順番待ち,茶碗,1,3000\n`;
  await stop('payment-svc');
  let first: { id: string };
  try {
    // The first import cannot pay its order: it stays running, holding the only place.
    const upload = await request.post(`${orderServiceUrl}/api/v1/orders/imports`, {
      headers: { 'content-type': 'text/csv' },
      data: csv(uniqueTag('ahead')),
    });
    expect(upload.status(), await upload.text()).toBe(202);
    first = await upload.json();

    await open(page, '/imports');
    const tag = uniqueTag('queued');
    await page.getByLabel('CSV file').setInputFiles({ name: `${tag}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv(tag)) });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const waiting = page.locator(`section[data-import-id]:not([data-import-id="${first.id}"])`);
    await expect(waiting).toHaveAttribute('data-import-status', 'queued');
    await expect(waiting).toContainText('Waiting for the imports running now to finish');
    await expect(page.locator('[data-status="queued"]').first()).toHaveText('Queued');
  } finally {
    await start('payment-svc');
  }
  // The first one is paid and ends; the queued one starts and the open page follows it to the end.
  const waiting = page.locator(`section[data-import-id]:not([data-import-id="${first!.id}"])`);
  await expect(waiting).toHaveAttribute('data-import-status', 'completed', { timeout: 30_000 });
  const ahead = await request.get(`${orderServiceUrl}/api/v1/orders/imports/${first!.id}`);
  expect((await ahead.json()).status).toBe('completed');
});
