// What one cron invocation may still spend. Workers cap the subrequests of an invocation (50 on
// Workers Free, 10,000 on Paid), and every libSQL request and mail API call is one, so each task of
// the cron works in steps of known cost and stops when its share is spent. It also starts nothing
// new past its deadline, so runs a minute apart do not pile up: what is left waits for the next.
export class CronBudget {
  #left: number;
  readonly #endsAt: number;

  constructor(subrequests: number, endsAt: number) {
    this.#left = subrequests;
    this.#endsAt = endsAt;
  }

  /** Spends `n` subrequests if that many are left and time remains; false means stop. */
  take(n = 1): boolean {
    if (this.#left < n || Date.now() >= this.#endsAt) return false;
    this.#left -= n;
    return true;
  }

  /** Gives back what a step took but did not use (it reserves for its worst case). */
  refund(n: number): void {
    this.#left += Math.max(0, n);
  }

  get left(): number {
    return this.#left;
  }
}

/** A budget for calls outside the cron's split (tests, one-off runs): plenty of both. */
export function unlimitedBudget(): CronBudget {
  return new CronBudget(Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY);
}
