/**
 * When each recipient was contacted. The real worker's contacts arrive at the measuring SMTP
 * sink; the baseline worker's no-op activity reports its own over IPC. Both land here, so every
 * scenario measures the two the same way.
 */
export class ContactLog {
  private readonly byRecipient = new Map<string, number[]>();
  private readonly waiters = new Map<string, Array<{ n: number; resolve: (at: number) => void }>>();
  total = 0;

  record(recipient: string, at: number): void {
    const to = recipient.toLowerCase();
    this.total += 1;
    const list = this.byRecipient.get(to) ?? [];
    list.push(at);
    this.byRecipient.set(to, list);
    const pending = this.waiters.get(to);
    if (!pending) return;
    for (const w of pending.filter((p) => p.n <= list.length)) {
      pending.splice(pending.indexOf(w), 1);
      w.resolve(list[w.n - 1]!);
    }
  }

  /** Date.now() of each contact of the recipient, oldest first. */
  times(recipient: string): readonly number[] {
    return this.byRecipient.get(recipient.toLowerCase()) ?? [];
  }

  /** Resolves with the time of the recipient's n-th contact (1-based); rejects after timeoutMs. */
  waitFor(recipient: string, n = 1, timeoutMs = 120_000): Promise<number> {
    const to = recipient.toLowerCase();
    const list = this.byRecipient.get(to) ?? [];
    if (list.length >= n) return Promise.resolve(list[n - 1]!);
    return new Promise((resolve, reject) => {
      const pending = this.waiters.get(to) ?? [];
      this.waiters.set(to, pending);
      const waiter = {
        n,
        resolve: (at: number) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        pending.splice(pending.indexOf(waiter), 1);
        reject(new Error(`no contact ${n} for ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.push(waiter);
    });
  }
}
