// Bulk import from the dashboard: a CSV file checked first (a dry run creates nothing), then
// imported with its progress followed live to the end, its error report on the page and as a
// CSV download, and its orders; a file dropped on the drop zone, and the same file uploaded
// twice, which shows the import it already made instead of making another.
import fs from 'node:fs';
import { test, expect, open, uniqueTag } from '../fixtures';
import { orderServiceUrl } from '../platform';
import type { APIRequestContext } from '@playwright/test';

const shot = (name: string) => `test-results/screenshots/${name}.png`;

/// Six orders on seven item lines — the first order's two items on lines 2 and 4, apart —
/// and one order (line 6) whose customer e-mail is invalid. Refs and e-mails carry `tag`, so
/// the test finds its own orders among everyone else's.
function orderFile(tag: string) {
  const line = (ref: number, email: string, name: string, product: string, quantity: number, price: number) =>
    [`${tag}-${ref}`, email, name, product, quantity, price].join(',');
  const email = (ref: number) => `${tag}-${ref}@example.jp`;
  const lines = [
    'order_ref,customer_email,customer_name,product_name,quantity,unit_price',
    line(1, email(1), '田中太郎', 'ノートPC', 1, 89800),
    line(2, email(2), '鈴木花子', '湯呑み', 2, 2400),
    line(1, email(1), '田中太郎', 'マウス', 1, 3500),
    line(3, email(3), '佐藤一郎', '机', 1, 30000),
    line(4, 'not-an-e-mail', '山田次郎', '椅子', 1, 15000),
    line(5, email(5), '高橋美咲', '抹茶セット', 3, 4200),
    line(6, email(6), '伊藤健', '時計', 1, 25000),
  ];
  return {
    csv: lines.join('\n') + '\n',
    name: `${tag}.csv`,
    badLine: 6,
    badRef: `${tag}-4`,
    validEmails: [1, 2, 3, 5, 6].map(email),
  };
}

async function orderTotal(request: APIRequestContext, query: string): Promise<number> {
  const response = await request.get(`${orderServiceUrl}/api/v1/orders/?limit=1&${query}`);
  expect(response.status(), await response.text()).toBe(200);
  return Number(response.headers()['x-total-count']);
}

test('a CSV file is checked, then imported live, with its error report and its orders', async ({ page, request }) => {
  const tag = uniqueTag('imp');
  const file = orderFile(tag);
  await open(page, '/imports');
  await page.getByLabel('CSV file').setInputFiles({ name: file.name, mimeType: 'text/csv', buffer: Buffer.from(file.csv) });
  await expect(page.locator('[data-chosen-file]')).toContainText(file.name);

  // The dry run answers with its final counts and the error report; nothing is created.
  await page.getByRole('button', { name: 'Check file (dry run)' }).click();
  const dryRun = page.locator('section[data-import-status]');
  await expect(dryRun).toHaveAttribute('data-import-status', 'completed_with_errors');
  await expect(dryRun.getByRole('heading', { level: 2 })).toContainText('Dry run');
  await expect(dryRun.locator('[data-figure="rows"]')).toHaveText('7');
  await expect(dryRun.locator('[data-figure="orders"]')).toHaveText('6');
  await expect(dryRun.locator('[data-figure="succeeded"]')).toHaveText('5');
  await expect(dryRun.locator('[data-figure="failed"]')).toHaveText('1');
  await expect(dryRun.locator('[data-figure="unknown-columns"]')).toHaveText('none');
  await expect(dryRun.locator('[data-figure="encoding"]')).toContainText('utf-8');
  const dryReport = dryRun.getByRole('table', { name: 'Error report' });
  await expect(dryReport.locator('tbody tr')).toHaveCount(1);
  await expect(dryReport.locator(`tr[data-line="${file.badLine}"]`)).toContainText(file.badRef);
  await expect(dryReport.locator(`tr[data-line="${file.badLine}"]`)).toContainText('customer_email');
  await expect(dryRun.getByRole('button', { name: 'Download the report (CSV)' })).toBeVisible();
  await expect(dryRun.getByRole('link', { name: 'View orders' })).toHaveCount(0);
  const dryRunId = (await dryRun.getAttribute('data-import-id'))!;
  expect(await orderTotal(request, `batch_id=${dryRunId}`)).toBe(0);
  expect(await orderTotal(request, `q=${tag}`)).toBe(0);

  // The import itself: followed live to its final status.
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const imported = page.locator(`section[data-import-id]:not([data-import-id="${dryRunId}"])`);
  await expect(imported.getByRole('heading', { level: 2 })).toContainText('Import');
  await expect(imported).toHaveAttribute('data-import-status', 'completed_with_errors', { timeout: 30_000 });
  const bar = imported.getByRole('progressbar');
  await expect(bar).toHaveAttribute('aria-valuemax', '6');
  await expect(bar).toHaveAttribute('aria-valuenow', '6');
  await expect(bar.locator('div')).toHaveAttribute('style', /width: 100(\.0)?%/);
  await expect(imported.locator('[data-figure="processed"]')).toHaveText('6');
  await expect(imported.locator('[data-figure="orders"]')).toHaveText('6');
  await expect(imported.locator('[data-figure="succeeded"]')).toHaveText('5');
  await expect(imported.locator('[data-figure="failed"]')).toHaveText('1');
  await expect(imported.locator('[data-figure="time-left"]')).toHaveText('done');
  await expect(imported.locator('[data-outcome]')).toContainText('5 orders created and paid; 1 order could not be imported');
  const importId = (await imported.getAttribute('data-import-id'))!;
  await expect(imported.getByRole('table', { name: 'Error report' }).locator(`tr[data-line="${file.badLine}"]`)).toContainText(file.badRef);

  // The history lists both, newest first.
  const history = page.getByRole('table', { name: 'Imports, newest first' });
  await expect(history.locator('tbody tr').nth(0)).toHaveAttribute('data-import-id', importId);
  await expect(history.locator('tbody tr').nth(1)).toHaveAttribute('data-import-id', dryRunId);
  await expect(history.locator(`tr[data-import-id="${dryRunId}"]`)).toContainText('dry run');
  await page.screenshot({ path: shot('imports'), fullPage: true });

  // The whole report as a CSV download, with the line of the bad row.
  const downloading = page.waitForEvent('download');
  await imported.getByRole('button', { name: 'Download the report (CSV)' }).click();
  const report = fs.readFileSync((await (await downloading).path())!, 'utf8').replace(/^\uFEFF/, '');
  const reportLines = report.split(/\r?\n/);
  expect(reportLines[0]).toBe('line,order_ref,column,message');
  expect(reportLines.filter((l) => l.startsWith(`${file.badLine},${file.badRef},customer_email,`))).toHaveLength(1);

  // Its orders: exactly the valid ones, all paid, the split order with both of its items.
  await imported.getByRole('link', { name: 'View orders' }).click();
  await expect(page).toHaveURL(`/orders?batch_id=${importId}`);
  const chip = page.locator('[data-batch-filter]');
  await expect(chip).toContainText(`Import ${importId.slice(0, 8)}`);
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(5);
  for (const badge of await rows.locator('[data-status]').all()) await expect(badge).toHaveText('Paid');
  for (const email of file.validEmails) await expect(rows.filter({ hasText: email })).toHaveCount(1);
  await expect(rows.filter({ hasText: `${tag}-1@example.jp` }).locator('td').nth(2)).toHaveText('2');

  // The import filter stays through the status tabs, and can be removed.
  await page.getByRole('navigation', { name: 'Filter by status' }).getByRole('link', { name: 'Paid' }).click();
  await expect(page).toHaveURL(`/orders?status=paid&batch_id=${importId}`);
  await expect(rows).toHaveCount(5);
  await chip.getByRole('link', { name: /Remove the filter/ }).click();
  await expect(page).toHaveURL('/orders?status=paid');
  await expect(chip).toHaveCount(0);

  // An imported order names its import and its reference in the file.
  await open(page, `/orders?batch_id=${importId}&q=${encodeURIComponent(`${tag}-1@`)}`);
  await rows.first().getByRole('link').first().click();
  await expect(page.locator('[data-order-ref]')).toHaveText(`${tag}-1`);
  await expect(page.getByRole('cell', { name: 'マウス' })).toBeVisible();
  await page.locator('[data-order-import]').getByRole('link', { name: `Import ${importId.slice(0, 8)}` }).click();

  // The import's own page, rendered by the server with its figures and report.
  await expect(page).toHaveURL(`/imports/${importId}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Import ${importId.slice(0, 8)}`);
  await expect(page.locator('[data-figure="failed"]')).toHaveText('1');
  // Rendered by the server, several at once (the server ends each page on whichever thread
  // finishes it and reads the title after rendering, which once panicked it now and then).
  const rendered = await Promise.all(
    Array.from({ length: 12 }, () => page.request.get(`/imports/${importId}`)),
  );
  for (const response of rendered) {
    expect(response.status()).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<title>Import ${importId.slice(0, 8)} · Order Management</title>`);
    expect(html).toContain(file.badRef);
    expect(html).toContain('Completed with errors');
  }
  await page.screenshot({ path: shot('import-detail'), fullPage: true });
});

test('a dropped file is imported once, however often it is uploaded', async ({ page, request }) => {
  const tag = uniqueTag('drop');
  const file = orderFile(tag);
  await open(page, '/imports');
  const zone = page.locator('[data-drop-zone]');
  const dropFile = async () => {
    const dataTransfer = await page.evaluateHandle(({ csv, name }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([csv], name, { type: 'text/csv' }));
      return transfer;
    }, file);
    await zone.dispatchEvent('dragenter', { dataTransfer });
    await expect(zone).toHaveAttribute('data-dragging', 'true');
    await zone.dispatchEvent('drop', { dataTransfer });
    await expect(zone).not.toHaveAttribute('data-dragging');
    await expect(page.locator('[data-chosen-file]')).toContainText(file.name);
  };

  await dropFile();
  await page.getByRole('radio', { name: /One digest per customer/ }).check();
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const panel = page.locator('section[data-import-status]');
  await expect(panel).toHaveAttribute('data-import-status', 'completed_with_errors', { timeout: 30_000 });
  await expect(panel).toContainText('One digest per customer');
  const importId = (await panel.getAttribute('data-import-id'))!;
  const history = page.getByRole('table', { name: 'Imports, newest first' });
  await expect(history.locator('tbody tr', { hasText: file.name })).toHaveCount(1);

  // The same bytes again: the Order Service answers with the import it already has.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached();
  await dropFile();
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('[data-existing-import]')).toContainText('This file was already uploaded');
  await expect(panel).toHaveAttribute('data-import-id', importId);
  await expect(panel).toHaveAttribute('data-import-status', 'completed_with_errors');
  await expect(history.locator('tbody tr', { hasText: file.name })).toHaveCount(1);
  expect(await orderTotal(request, `q=${tag}`)).toBe(5);
  expect(await orderTotal(request, `batch_id=${importId}`)).toBe(5);
});

test.describe('files that cannot be imported', () => {
  // The browser reports the Order Service's 422 answer in its console; nothing else may be.
  test.use({ allowedConsoleErrors: /status of 422/ });

  test('a file is refused next to the form, with the reason, and nothing is imported', async ({ page, request }) => {
    const tag = uniqueTag('bad');
    await open(page, '/imports');
    // Nothing chosen yet.
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Choose a CSV file first');

    // Too large for the Order Service: said at once, without sending it.
    const large = Buffer.alloc(21 * 1024 * 1024, 'a');
    await page.getByLabel('CSV file').setInputFiles({ name: `${tag}-large.csv`, mimeType: 'text/csv', buffer: large });
    await page.getByRole('button', { name: 'Check file (dry run)' }).click();
    await expect(page.getByRole('alert')).toContainText('a file may be at most 20 MB');

    // A header without the unit price, picked from the keyboard: the Order Service's 422,
    // with its detail.
    const csv = `order_ref,customer_email,customer_name,product_name,quantity\n${tag}-1,${tag}@example.jp,田中太郎,ノートPC,1\n`;
    // The zone shows where the focus is: on its (visually hidden) file input.
    const zone = page.locator('[data-drop-zone]');
    await expect(zone).toHaveCSS('box-shadow', 'none');
    await page.getByLabel('CSV file').focus();
    await expect(zone).toHaveCSS('box-shadow', /rgb/);
    const chooser = page.waitForEvent('filechooser');
    await page.keyboard.press('Space');
    await (await chooser).setFiles({ name: `${tag}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect(page.locator('[data-chosen-file]')).toContainText(`${tag}.csv`);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const problem = page.locator('[data-upload-problem]');
    await expect(problem).toContainText('The file cannot be read');
    await expect(problem).toContainText('unit_price');
    await expect(problem).toContainText('Nothing was imported');
    await expect(page.locator('section[data-import-status]')).toHaveCount(0);
    await page.screenshot({ path: shot('import-refused'), fullPage: true });

    await page.reload();
    await expect(page.getByRole('heading', { name: 'Import history' })).toBeVisible();
    await expect(page.locator('tbody tr', { hasText: tag })).toHaveCount(0);
    expect(await orderTotal(request, `q=${tag}`)).toBe(0);
  });
});
