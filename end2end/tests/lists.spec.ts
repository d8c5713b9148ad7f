// The orders table and the notifications list: pages, filters and search live in the URL,
// so back and forward move between views and a view can be bookmarked.
import { test, expect, open, createOrder, uniqueTag } from '../fixtures';
import { notificationServiceUrl } from '../platform';

test('orders page through, filter by status and search, with back and forward', async ({ page, request }) => {
  const tag = uniqueTag('pager');
  // 23 orders of this test's customers: every fifth one's ¥50 payment is refused (pending).
  const created = [];
  for (let n = 0; n < 23; n++) {
    const price = n % 5 === 0 ? 50 : 1000 + n;
    created.push(await createOrder(request, `${tag}-${n}@example.jp`, [[`商品 ${n}`, 1, price]], `顧客 ${n}`));
  }
  const pendingCount = created.filter((o) => o.status === 'pending').length;
  expect(pendingCount).toBe(5);
  const rows = page.locator('tbody tr');

  // Search from the form: the URL takes the search, the table shows only matching orders.
  await open(page, '/orders');
  await page.getByLabel('Customer e-mail').fill(tag);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`/orders\\?q=${tag}$`));
  await expect(rows).toHaveCount(20);
  await expect(page.getByText(`Showing 1–20 of 23 · page 1 of 2`)).toBeVisible();
  // Newest first.
  await expect(rows.first()).toContainText(`#${created[22].id}`);
  await expect(rows.first()).toContainText('顧客 22');

  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(new RegExp(`/orders\\?q=${tag}&page=2$`));
  await expect(rows).toHaveCount(3);
  await expect(rows.last()).toContainText(`#${created[0].id}`);

  await page.getByRole('navigation', { name: 'Filter by status' }).getByRole('link', { name: 'Pending' }).click();
  await expect(page).toHaveURL(new RegExp(`/orders\\?status=pending&q=${tag}$`));
  await expect(rows).toHaveCount(pendingCount);
  for (const badge of await rows.locator('[data-status]').all()) await expect(badge).toHaveText('Pending');

  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`page=2$`));
  await expect(rows).toHaveCount(3);
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/orders\\?q=${tag}$`));
  await expect(rows).toHaveCount(20);
  await page.goForward();
  await expect(rows).toHaveCount(3);
  await page.goForward();
  await expect(rows).toHaveCount(pendingCount);

  // The view is in the URL: opened afresh, it is the same view, rendered by the server.
  const response = await page.goto(`/orders?status=pending&q=${tag}`);
  expect(await response!.text()).toContain(`顧客 20`);
  await expect(rows).toHaveCount(pendingCount);

  // A search without matches says so, with the way back.
  await open(page, `/orders?q=${tag}-nobody`);
  await expect(page.getByText('No orders match this view.')).toBeVisible();
  await page.getByRole('link', { name: 'Show all orders' }).click();
  await expect(page).toHaveURL('/orders');
});

test('notifications filter by delivery status and show the rendered message', async ({ page, request }) => {
  const order = await createOrder(request, `${uniqueTag('notify')}@example.jp`, [['湯呑み', 2, 2400]], '鈴木一郎');
  await open(page, '/notifications');
  const entry = page.locator(`[data-template="ORDER_CONFIRMATION"]`).filter({ hasText: `order #${order.id}` });
  // It arrives through the Order Service's outbox; a reload picks it up.
  await expect(async () => {
    await page.reload();
    await expect(entry).toBeVisible({ timeout: 1_000 });
  }).toPass();

  // Sent at the Notification Service's rate limit, behind whatever other tests queued.
  await expect
    .poll(async () => {
      const response = await request.get(`${notificationServiceUrl}/api/v1/notifications/order/${order.id}`);
      return (await response.json()).map((n: { status: string }) => n.status);
    }, { timeout: 30_000 })
    .toEqual(['SENT']);

  await page.getByRole('navigation', { name: 'Filter by delivery status' }).getByRole('link', { name: 'Sent' }).click();
  await expect(page).toHaveURL('/notifications?status=sent');
  const badges = page.locator('ul[aria-label="Notifications, newest first"] [data-status]');
  await expect(badges.first()).toBeVisible();
  for (const badge of await badges.all()) await expect(badge).toHaveText('Sent');

  await page.getByRole('navigation', { name: 'Filter by delivery status' }).getByRole('link', { name: 'Failed' }).click();
  await expect(page).toHaveURL('/notifications?status=failed');
  await expect(page.getByText('No notifications here.')).toBeVisible();

  await page.goBack();
  await expect(page).toHaveURL('/notifications?status=sent');
  const sentEntry = page.locator(`[data-template="ORDER_CONFIRMATION"]`).filter({ hasText: `order #${order.id}` });
  await sentEntry.getByText('Preview message').click();
  await expect(sentEntry.locator('pre')).toContainText('鈴木一郎 様');
  await expect(sentEntry.locator('pre')).toContainText('湯呑み × 2');
});
