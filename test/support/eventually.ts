import { WaitTimeoutError, waitUntil } from '../../local/wait.js';

/** "Assert eventually": retries an assertion until it passes or time runs out; no fixed sleeps. */
export async function eventually<T>(assertion: () => T | Promise<T>, { timeoutMs = 20_000, intervalMs = 100 } = {}): Promise<T> {
  try {
    const passed = await waitUntil('an assertion to pass', async () => ({ value: await assertion() }), { timeoutMs, intervalMs });
    return passed.value;
  } catch (err) {
    // The assertion's own last failure says more than "timed out".
    throw err instanceof WaitTimeoutError && err.cause !== undefined ? err.cause : err;
  }
}
