/** The store contract, run on every backend of src/store/backends.ts, built by its own factory. */
import { afterAll, beforeAll } from '@jest/globals';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { STORE_BACKENDS } from '../../src/store/backends.js';
import { createStore } from '../../src/store/create.js';
import { storeConfig } from '../support/config-defaults.js';
import { sleep } from '../support/redis.js';
import { STORE_HARNESSES, type HarnessRun } from '../support/store-harnesses.js';
import { storeContract } from './contract.js';

for (const backend of STORE_BACKENDS) {
  const harness = STORE_HARNESSES[backend.type];
  harness.describe(`store backend ${backend.type}`, () => {
    let run: HarnessRun | undefined;
    beforeAll(async () => {
      run = await harness.start();
    });
    afterAll(async () => {
      await run?.stop();
    });

    storeContract(
      backend.type,
      async () => {
        const started = run as HarnessRun;
        const store = createStore(storeConfig({ type: backend.type, ...started.section }), {
          clock: started.clock ?? systemClock,
          logger: silentLogger(),
          env: {},
          configDir: process.cwd(),
        });
        await started.ready?.(store);
        return store;
      },
      (ms) => (run?.elapse ? run.elapse(ms) : sleep(ms)),
    );
  });
}
