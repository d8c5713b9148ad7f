// Playwright drives the machine's Chromium (Debian's /usr/bin/chromium: browsers cannot be
// downloaded here) against the real three services and the dashboard, which global-setup
// starts from the built binaries on fresh databases, on ports of their own (see platform.ts)
// so that a `make run` on the same machine is left alone.
import { defineConfig } from '@playwright/test';
import { dashboardUrl } from './platform';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  globalSetup: require.resolve('./global-setup'),
  // One browser at a time: the tests share one platform, and some stop a service.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { outputFolder: './playwright-report', open: 'never' }]],
  use: {
    baseURL: dashboardUrl,
    browserName: 'chromium',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
});
