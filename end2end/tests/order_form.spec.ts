// The new-order form checks every field with the Order Service's own rules before sending
// anything, and shows what the service itself refuses next to the form.
import { test, expect, open } from '../fixtures';
import { orderServiceUrl } from '../platform';

async function orderCount(request: import('@playwright/test').APIRequestContext): Promise<number> {
  const response = await request.get(`${orderServiceUrl}/api/v1/orders/?limit=1`);
  return Number(response.headers()['x-total-count']);
}

test('the form shows each problem beside its field and sends nothing until all are fixed', async ({ page, request }) => {
  const before = await orderCount(request);
  await open(page, '/orders/new');

  // Nothing is flagged before the user has done anything.
  await expect(page.locator('[aria-invalid="true"]')).toHaveCount(0);

  // A field is checked as soon as it is left.
  await page.getByLabel('E-mail').fill('tanaka@');
  await page.getByLabel('Customer name').focus();
  await expect(page.locator('#customer-email-error')).toHaveText('E-mail is not a valid e-mail address');
  await expect(page.getByLabel('E-mail')).toHaveAttribute('aria-invalid', 'true');

  // Submitting shows every remaining problem, and nothing is sent.
  await page.getByRole('button', { name: 'Create order' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'nothing was sent' })).toBeVisible();
  await expect(page.locator('#customer-name-error')).toHaveText('Customer name must not be empty');
  await expect(page.getByText('Product must not be empty')).toBeVisible();
  await expect(page.getByText('Unit price must be a whole number of yen')).toBeVisible();

  await page.getByLabel('Quantity').fill('0');
  await expect(page.getByText('Quantity must be at least 1')).toBeVisible();
  await page.getByLabel('Quantity').fill('10001');
  await expect(page.getByText('Quantity must be at most 10000')).toBeVisible();
  await page.getByLabel('Unit price (¥)').fill('12.5');
  await expect(page.getByText('Unit price must be a whole number of yen')).toBeVisible();
  await page.getByLabel('Unit price (¥)').fill('-5');
  await expect(page.getByText('Unit price must not be negative')).toBeVisible();
  expect(await orderCount(request)).toBe(before);

  // Fixed, field by field; a total below the payment minimum only warns.
  await page.getByLabel('E-mail').fill('sato@example.jp');
  await page.getByLabel('Customer name').fill('佐藤花子');
  await page.getByLabel('Product 1').fill('付箋');
  await page.getByLabel('Quantity').fill('1');
  await page.getByLabel('Unit price (¥)').fill('50');
  await expect(page.locator('[aria-invalid="true"]')).toHaveCount(0);
  await expect(page.getByRole('note')).toContainText('A payment must be ¥100 to ¥1,000,000');

  await page.getByRole('button', { name: 'Create order' }).click();
  await expect(page).toHaveURL(/\/orders\/\d+$/);
  // The payment was refused as warned: the order waits, pending, with the reason in its timeline.
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Pending');
  await expect(page.getByRole('region', { name: 'Status timeline' })).toContainText('payment failed');
  expect(await orderCount(request)).toBe(before + 1);
});

test('the form works from the keyboard alone', async ({ page }) => {
  await open(page, '/orders/new');
  await page.getByLabel('E-mail').focus();
  await page.keyboard.type('keyboard@example.jp');
  await page.keyboard.press('Tab');
  await page.keyboard.type('キーボード');
  await page.keyboard.press('Tab');
  await page.keyboard.type('ペン');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('3');
  await page.keyboard.press('Tab');
  await page.keyboard.type('120');
  await expect(page.locator('[data-live-total]')).toHaveText('¥360');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/orders\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Paid');
});
