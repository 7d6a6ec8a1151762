/**
 * Timestamps of events inside a sliding window, kept in a growable ring buffer so that pushing and
 * evicting are O(1) amortized (no Array.shift, which is O(n)).
 */
export class TimeWindow {
  private buf: Float64Array;
  private head = 0;
  private size = 0;

  constructor(
    readonly windowMs: number,
    initialCapacity = 256,
  ) {
    this.buf = new Float64Array(initialCapacity);
  }

  /** Drops events at or before `now - windowMs`; returns how many remain. */
  evict(now: number): number {
    const cutoff = now - this.windowMs;
    const cap = this.buf.length;
    while (this.size > 0 && this.buf[this.head] <= cutoff) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    return this.size;
  }

  push(t: number): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) % this.buf.length] = t;
    this.size++;
  }

  count(now: number): number {
    return this.evict(now);
  }

  /** Oldest event still in the window (or undefined): when it leaves, a slot frees up. */
  oldest(): number | undefined {
    return this.size > 0 ? this.buf[this.head] : undefined;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const next = new Float64Array(this.buf.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = next;
    this.head = 0;
  }
}

/**
 * Highest number of events seen in any window of `windowMs`. The busiest window always ends at some
 * event, so checking the count right after each push is enough.
 */
export class SlidingMax {
  private readonly window: TimeWindow;
  max = 0;

  constructor(windowMs: number) {
    this.window = new TimeWindow(windowMs);
  }

  record(now: number): number {
    this.window.evict(now);
    this.window.push(now);
    const n = this.window.count(now);
    if (n > this.max) this.max = n;
    return n;
  }
}
