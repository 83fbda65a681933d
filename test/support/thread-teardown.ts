import { afterAll } from '@jest/globals';
import { hashThreads } from '../../src/credentials/hash-threads.js';
import { signThread } from '../../src/tokens/sign-thread.js';

/**
 * Run after every test file (jest's setupFilesAfterEnv). Each file has its own copy of every
 * module, and each copy starts its own hash and signing threads: the hash threads never
 * leave, so a jest worker process that ran eighty files ran eighty sets of threads, each with
 * its own isolate (86 threads, 4.4 GB, and a test stalled in garbage collection). Stopping
 * them when the file ends ends that. The copies themselves stay for as long as the process
 * (a Node leak of vm modules); jest.config.js bounds that with workerIdleMemoryLimit.
 */
afterAll(async () => {
  await Promise.all([hashThreads.close(), signThread.close()]);
});
