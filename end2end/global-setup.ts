// Starts the whole platform once for the run, on fresh databases, with its people signed in
// (identity.ts); the returned function is Playwright's teardown and stops it again, whatever
// the tests did.
import { preparePeople } from './identity';
import { startAll, stopAll } from './platform';

export default async function globalSetup(): Promise<() => Promise<void>> {
  try {
    await startAll();
    await preparePeople();
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
