// What every end-to-end test shares: a `page` signed in as the test's `role` (the
// administrator unless it says otherwise) that fails the test on any error in the browser's
// console or any uncaught exception, a way to open a page and wait until the WASM has hydrated
// it, and a `request` to the services carrying an administrator's token, for setting up data.
import { test as base, expect, type Page, type APIRequestContext } from '@playwright/test';
import { apiToken, storageStateOf, type RoleName } from './identity';
import { orderServiceUrl } from './platform';

type Options = { allowedConsoleErrors: RegExp | null; role: RoleName | 'anonymous' };

export const test = base.extend<Options>({
  allowedConsoleErrors: [null, { option: true }],
  role: ['admin', { option: true }],
  storageState: async ({ role }, use) =>
    use(role === 'anonymous' ? { cookies: [], origins: [] } : storageStateOf(role)),
  request: async ({ playwright }, use) => {
    const request = await playwright.request.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${await apiToken()}` },
    });
    await use(request);
    await request.dispose();
  },
  page: async ({ page, allowedConsoleErrors }, use) => {
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !allowedConsoleErrors?.test(message.text())) {
        errors.push(message.text());
      }
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    await use(page);
    expect(errors, 'errors in the browser console').toEqual([]);
  },
});

export { expect };

/// Opens `path` and waits until the dashboard is hydrated: before that, clicks are lost.
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();
}

export type Order = { id: number; status: string; total_amount: number; customer_email: string };

/// Creates an order through the Order Service's API (¥price × quantity per item).
export async function createOrder(
  request: APIRequestContext,
  email: string,
  items: Array<[string, number, number]> = [['ノートPC', 2, 89800]],
  name = '田中太郎',
): Promise<Order> {
  const response = await request.post(`${orderServiceUrl}/api/v1/orders/`, {
    data: {
      customer_email: email,
      customer_name: name,
      items: items.map(([product_name, quantity, unit_price]) => ({ product_name, quantity, unit_price })),
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return response.json();
}

/// A unique tag, so that a test finds its own orders among everyone else's.
export function uniqueTag(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
