/**
 * A list that is taken from the front and added to at the back in constant time: the memory
 * store's lists (the OTP delivery queue, the Audit page's batches). An array's `shift` copies
 * every element once the array is past about 16,000 of them (V8 moves the backing store
 * instead of trimming it): about 50 µs a pop at 100,000 queued codes, on the event loop. Here the
 * front moves along an index, and the array is cut down once the taken part is most of it.
 */
const COMPACT_AT = 1024;

export class Deque {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(value: string): void {
    this.items.push(value);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const value = this.items[this.head];
    this.dropFront(1);
    return value;
  }

  /** Drops the `count` oldest. */
  dropFront(count: number): void {
    const next = Math.min(this.items.length, this.head + count);
    this.items.fill('', this.head, next); // what was taken is not kept alive until the next compaction
    this.head = next;
    this.compact();
  }

  /** Removes the oldest occurrence of `value`; whether there was one. */
  remove(value: string): boolean {
    const at = this.items.indexOf(value, this.head);
    if (at < 0) return false;
    this.items.splice(at, 1);
    return true;
  }

  /** The `count` oldest, oldest first. */
  first(count: number): string[] {
    return this.items.slice(this.head, this.head + Math.max(0, count));
  }

  private compact(): void {
    if (this.head >= COMPACT_AT && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
