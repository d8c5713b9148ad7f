// Every page: rendered by the server with the services' data (readable before the WASM
// loads), hydrated without an error in the console, and saved as a screenshot artifact in
// end2end/test-results/screenshots/.
import { test, expect, open, createOrder, uniqueTag } from '../fixtures';

const shot = (name: string) => `test-results/screenshots/${name}.png`;

test('every page is server-rendered, hydrates cleanly and is saved as a screenshot', async ({ page, request }) => {
  const order = await createOrder(request, `${uniqueTag('pages')}@example.co.jp`, [['抹茶セット', 3, 4200]], '高橋美咲');

  const pages: Array<[string, string, string]> = [
    ['overview', '/', 'Overview'],
    ['orders', '/orders', 'Orders'],
    ['new-order', '/orders/new', 'New order'],
    ['order-detail', `/orders/${order.id}`, `Order #${order.id}`],
    ['notifications', '/notifications', 'Notifications'],
    ['imports-list', '/imports', 'Imports'],
    ['admin', '/admin', 'Administration'],
  ];
  for (const [name, path, heading] of pages) {
    const response = await page.goto(path);
    expect(response!.status(), path).toBe(200);
    const html = await response!.text();
    expect(html, `${path} is rendered on the server`).toContain(heading);
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(heading);
    await expect(page).toHaveTitle(`${heading} · Order Management`);
    await page.screenshot({ path: shot(name), fullPage: true });
  }

  // The server render carries the data, Japanese text included, not just the frame, and the
  // page's own title — also when several are rendered at once (the title is read after the
  // page is rendered, which once panicked the server now and then).
  const details = await Promise.all(
    Array.from({ length: 12 }, () => page.request.get(`/orders/${order.id}`)),
  );
  for (const response of details) {
    expect(response.status()).toBe(200);
    const detail = await response.text();
    expect(detail).toContain(`<title>Order #${order.id} · Order Management</title>`);
    expect(detail).toContain('高橋美咲');
    expect(detail).toContain('抹茶セット');
    expect(detail).toContain('¥12,600');
  }

  // Tailwind's stylesheet is built and applied.
  await open(page, '/');
  const header = page.locator('header');
  await expect(header).not.toHaveCSS('background-color', 'rgba(0, 0, 0, 0)');
  await expect(page.locator('main')).toHaveCSS('max-width', '1152px');
});

test.describe('missing things', () => {
  // The 404 answers themselves are reported in the console; nothing else may be.
  test.use({ allowedConsoleErrors: /status of 404 \(Not Found\)/ });

  test('an unknown address is a 404 page with a way back', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response!.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await page.screenshot({ path: shot('not-found'), fullPage: true });

  await open(page, '/orders/999999999');
  await expect(page.getByText('There is no such order.')).toBeVisible();
  await page.getByRole('link', { name: 'Back to all orders' }).click();
  await expect(page).toHaveURL('/orders');
  });
});

test('navigation moves between pages without a full page load', async ({ page }) => {
  await open(page, '/');
  // A marker on the window survives client-side navigation only.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const [link, url] of [['Orders', '/orders'], ['Notifications', '/notifications'], ['Imports', '/imports'], ['New order', '/orders/new'], ['Overview', '/']]) {
    await nav.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveURL(url);
    await expect(nav.getByRole('link', { name: link, exact: true })).toHaveAttribute('aria-current', 'page');
  }
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
});
