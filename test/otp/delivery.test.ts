import { afterEach, describe, expect, it } from '@jest/globals';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { DeliveryQueue, inFlightKey, leaseKey, queueKey, type DeliveryJob } from '../../src/otp/delivery.js';
import type { OtpMessage, OtpSender } from '../../src/otp/senders/index.js';
import { MemoryStore } from '../../src/store/memory.js';
import { until } from '../support/until.js';

/**
 * The delivery queue is at least once: a job a worker took and never finished (its process
 * died mid-send) goes back to the queue and is delivered by a live worker; a job a live worker
 * holds is left to it. The store is real (memory; the Redis list operations are in the store
 * contract tests); the sender records what it is handed.
 */
const FAST = { sweepMs: 30, recoverAfterMs: 120 };

class RecordingSender implements OtpSender {
  readonly type = 'recording';
  readonly sent: OtpMessage[] = [];
  async send(message: OtpMessage): Promise<void> {
    this.sent.push(message);
  }
}

const job = (transaction: string): DeliveryJob => ({
  v: 1,
  tenant: 'demo',
  user: 'u-1',
  recipient: '+15550000001',
  channel: 'sms',
  code: '123456',
  transaction_id: transaction,
  at: new Date().toISOString(),
  expires: Date.now() + 300_000,
  attempt: 0,
  due: 0,
});

const stores: MemoryStore[] = [];
const queues: DeliveryQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop();
  for (const s of stores.splice(0)) await s.close();
});

function setUp() {
  const store = new MemoryStore(systemClock);
  const sender = new RecordingSender();
  const queue = new DeliveryQueue(store, 'q1', sender, { retries: 0, backoffMs: 10 }, { log: silentLogger(), clock: systemClock }, FAST);
  stores.push(store);
  queues.push(queue);
  return { store, sender, queue };
}

/** A sender that takes a few milliseconds a message, like a network call, and notes how many it held at once. */
class SlowSender implements OtpSender {
  readonly type = 'slow';
  readonly sent: OtpMessage[] = [];
  sending = 0;
  mostAtOnce = 0;
  async send(message: OtpMessage): Promise<void> {
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.sending);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.sending--;
    this.sent.push(message);
  }
}

describe('otp delivery queue: throughput', () => {
  it('keeps its deliveries going between beats, at most 8 at once: 400 codes in well under the 2.5 s the beat alone allowed', async () => {
    const store = new MemoryStore(systemClock);
    const sender = new SlowSender();
    const queue = new DeliveryQueue(store, 'q2', sender, { retries: 0, backoffMs: 10 }, { log: silentLogger(), clock: systemClock });
    stores.push(store);
    queues.push(queue);
    for (let i = 0; i < 400; i++) await store.listPush(queueKey('q2'), JSON.stringify(job(`t-${i}`)));
    const started = performance.now();
    queue.start();
    await until(() => sender.sent.length === 400 || undefined, 5000);
    // 8 at a time, 5 ms each: about 0.25 s; 8 a 50 ms beat took 2.5 s.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(sender.mostAtOnce).toBe(8);
    expect(new Set(sender.sent.map((m) => m.transaction_id)).size).toBe(400);
    await until(async () => (await store.listLength(inFlightKey('q2'))) === 0 || undefined, 3000);
  });
});

describe('otp delivery queue: at least once', () => {
  it('delivers a queued job once and leaves nothing in flight', async () => {
    const { store, sender, queue } = setUp();
    await queue.enqueue(job('t-normal'));
    await until(() => sender.sent.length === 1 || undefined, 3000);
    await until(async () => (await store.listLength(inFlightKey('q1'))) === 0 || undefined, 3000);
    expect(sender.sent.map((m) => m.transaction_id)).toEqual(['t-normal']);
    expect(await store.listLength(queueKey('q1'))).toBe(0);
  });

  it('requeues and delivers a job whose worker died after taking it (in flight, no lease)', async () => {
    const { store, sender, queue } = setUp();
    // What a worker that died mid-send leaves: the job moved to the in-flight list, its lease run out.
    await store.listPush(queueKey('q1'), JSON.stringify(job('t-orphan')));
    expect(await store.listMove(queueKey('q1'), inFlightKey('q1'))).not.toBeNull();
    const started = Date.now();
    queue.start();
    await until(() => sender.sent.length === 1 || undefined, 3000);
    expect(sender.sent[0]?.transaction_id).toBe('t-orphan');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAST.recoverAfterMs);
    await until(async () => (await store.listLength(inFlightKey('q1'))) === 0 || undefined, 3000);
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.recoverAfterMs));
    expect(sender.sent).toHaveLength(1); // delivered once, not again
  });

  it('leaves alone a job another live worker holds (its lease is set)', async () => {
    const { store, sender, queue } = setUp();
    const text = JSON.stringify(job('t-held'));
    await store.listPush(queueKey('q1'), text);
    await store.listMove(queueKey('q1'), inFlightKey('q1'));
    await store.set(leaseKey('q1', text), '1', 60_000); // the other worker's lease
    queue.start();
    await new Promise((resolve) => setTimeout(resolve, 4 * FAST.recoverAfterMs));
    expect(sender.sent).toHaveLength(0);
    expect(await store.listRange(inFlightKey('q1'), 10)).toEqual([text]);
  });
});
