import { afterAll } from '@jest/globals';
import { hashThreads } from '../../src/credentials/hash-threads.js';
import { signThread } from '../../src/tokens/sign-thread.js';

/**
 * Run after every test file (jest's setupFilesAfterEnv). Each file has its own copy of every
 * module, and a worker thread a copy started holds that copy, and everything it reaches, for
 * as long as the thread lives: the hash threads never leave, so a jest worker process that
 * ran eighty files held eighty module graphs and their threads (4.4 GB, and a test stalled in
 * garbage collection). Stopping them when the file ends lets its copy go.
 */
afterAll(async () => {
  await Promise.all([hashThreads.close(), signThread.close()]);
});
