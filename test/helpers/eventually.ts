/**
 * For state that settles a little after the action that caused it (eventually consistent
 * visibility, an activity an update started, a continue-as-new): polls `read` until it returns
 * `expected` (compared as JSON) or the time is up, and returns the last answer so the assertion
 * that follows shows the difference.
 */
export async function eventually<T>(read: () => Promise<T> | T, expected: T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const want = JSON.stringify(expected);
  for (;;) {
    const got = await read();
    if (JSON.stringify(got) === want || Date.now() > deadline) return got;
    await new Promise<void>((r) => setTimeout(r, 200));
  }
}
