// An order's life through the dashboard: created with the form and paid, shipped, delivered,
// or cancelled with its refund, each step confirmed by the other services' panels.
import { test, expect, open, createOrder, uniqueTag } from '../fixtures';
import { orderServiceUrl } from '../platform';

test('an order created with the form is paid, with its payment and its confirmation e-mail', async ({ page, request }) => {
  const email = `${uniqueTag('form')}@example.co.jp`;
  await open(page, '/orders/new');

  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Customer name').fill('田中太郎');
  await page.getByLabel('Product 1').fill('ノートPC');
  await page.getByLabel('Quantity').first().fill('2');
  await page.getByLabel('Unit price (¥)').first().fill('89800');
  await expect(page.locator('[data-live-total]')).toHaveText('¥179,600');

  await page.getByRole('button', { name: '+ Add item' }).click();
  await page.getByLabel('Product 2').fill('マウス');
  await page.getByLabel('Unit price (¥)').nth(1).fill('3,500');
  await expect(page.locator('[data-live-total]')).toHaveText('¥183,100');

  // A third row, added and removed again, leaves the total alone.
  await page.getByRole('button', { name: '+ Add item' }).click();
  await page.getByLabel('Product 3').fill('不要');
  await page.getByLabel('Unit price (¥)').nth(2).fill('1000');
  await expect(page.locator('[data-live-total]')).toHaveText('¥184,100');
  await page.getByRole('button', { name: 'Remove item 3' }).click();
  await expect(page.locator('[data-live-total]')).toHaveText('¥183,100');

  await page.getByRole('button', { name: 'Create order' }).click();
  await expect(page).toHaveURL(/\/orders\/\d+$/);
  const id = Number(page.url().split('/').pop());

  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Order #${id}`);
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Paid');
  await expect(page.locator('[data-total]')).toHaveText('¥183,100');
  await expect(page.getByRole('cell', { name: 'マウス' })).toBeVisible();
  await expect(page.locator('[data-payment-status]')).toHaveText('Completed');

  // The confirmation travels Order Service → outbox → Notification Service; the page polls.
  const confirmation = page.locator('[data-template="ORDER_CONFIRMATION"]');
  await expect(confirmation).toBeVisible();
  await confirmation.getByText('Preview message').click();
  await expect(confirmation.locator('pre')).toContainText('田中太郎 様');
  await expect(confirmation.locator('pre')).toContainText('¥183,100');

  // The Order Service agrees with what the page shows.
  const stored = await (await request.get(`${orderServiceUrl}/api/v1/orders/${id}`)).json();
  expect(stored).toMatchObject({ status: 'paid', customer_email: email, total_amount: 183100 });
});

test('a paid order is shipped and then delivered; only the allowed actions are offered', async ({ page, request }) => {
  const order = await createOrder(request, `${uniqueTag('ship')}@example.jp`);
  await open(page, `/orders/${order.id}`);
  const actions = page.getByRole('group', { name: 'Order actions' });
  await expect(actions.getByRole('button')).toHaveText(['Mark shipped', 'Cancel order…']);

  await actions.getByRole('button', { name: 'Mark shipped' }).click();
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Shipped');
  await expect(actions.getByRole('button')).toHaveText(['Mark delivered']);
  await expect(page.locator('[data-template="ORDER_SHIPPED"]')).toBeVisible();

  await actions.getByRole('button', { name: 'Mark delivered' }).click();
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Delivered');
  await expect(actions.getByRole('button')).toHaveCount(0);

  const timeline = page.getByRole('region', { name: 'Status timeline' }).getByRole('listitem');
  await expect(timeline.locator('[data-step]')).toHaveText(['Pending', 'Payment processing', 'Paid', 'Shipped', 'Delivered']);
  // The URL never changed: all of it happened without a page load.
  await expect(page).toHaveURL(`/orders/${order.id}`);
});

test('cancelling a paid order asks first, then refunds it and tells the customer', async ({ page, request }) => {
  const order = await createOrder(request, `${uniqueTag('cancel')}@example.jp`, [['机', 1, 30000]]);
  await open(page, `/orders/${order.id}`);
  const actions = page.getByRole('group', { name: 'Order actions' });

  await actions.getByRole('button', { name: 'Cancel order…' }).click();
  const confirm = page.getByRole('alertdialog');
  await expect(confirm).toContainText(`Cancel order #${order.id}?`);
  await expect(confirm).toContainText('The payment of ¥30,000 will be refunded');
  // The page may refresh (every 3 s while the confirmation e-mail is on its way): the
  // question stays open through it.
  await page.waitForTimeout(3_500);
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Keep the order' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Paid');

  await actions.getByRole('button', { name: 'Cancel order…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Yes, cancel the order' }).click();
  await expect(page.getByRole('heading', { level: 1 }).locator('[data-status]')).toHaveText('Cancelled');
  await expect(actions.getByRole('button')).toHaveCount(0);

  // The refund goes out through the Order Service's outbox; the page shows it once done.
  await expect(page.locator('[data-payment-status]')).toHaveText('Refunded');
  await expect(page.locator('[data-refund]')).toContainText('Refunded ¥30,000');
  const cancellation = page.locator('[data-template="ORDER_CANCELLED"]');
  await expect(cancellation).toBeVisible();
  await cancellation.getByText('Preview message').click();
  await expect(cancellation.locator('pre')).toContainText('キャンセル');
});
