// Starts the whole platform once for the run, on fresh databases; the returned function is
// Playwright's teardown and stops it again, whatever the tests did.
import { startAll, stopAll } from './platform';

export default async function globalSetup(): Promise<() => Promise<void>> {
  try {
    await startAll();
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
