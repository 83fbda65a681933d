import { describe, expect, it } from '@jest/globals';
import { heldRefusals, holdRefusal, MAX_HELD_REFUSALS } from '../../src/engine/refusal-delay.js';

describe('refusal delay', () => {
  it('holds at most MAX_HELD_REFUSALS at once; beyond that, and without a delay, nothing is held', async () => {
    expect(holdRefusal(0)).toBeUndefined();
    const holds = Array.from({ length: MAX_HELD_REFUSALS }, () => holdRefusal(50));
    expect(holds.every((hold) => hold instanceof Promise)).toBe(true);
    expect(heldRefusals()).toBe(MAX_HELD_REFUSALS);
    expect(holdRefusal(50)).toBeUndefined();
    const started = performance.now();
    await Promise.all(holds);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(heldRefusals()).toBe(0);
    // Room again once they are answered.
    const again = holdRefusal(1);
    expect(again).toBeInstanceOf(Promise);
    await again;
  });
});
