import { cpuTicks, load } from './measure.js';
import { scenarios } from './scenarios.js';
import { servers } from './servers.js';
const root = new URL('..', import.meta.url).pathname;
const scenario = scenarios.find((s) => s.name.includes('till-login') && s.server === 'authpipe');
const sides = [{ name: 'pool4', env: {} }, { name: 'pool1', env: { UV_THREADPOOL_SIZE: '1' } }, { name: 'pool2', env: { UV_THREADPOOL_SIZE: '2' } }];
for (const s of sides) { s.rps = []; s.cpu = []; }
for (let r = 0; r < 4; r++) for (const side of r % 2 ? [...sides].reverse() : sides) {
  const server = await servers.authpipe.start(root, side.env);
  await load(server.url, scenario.request, 1);
  const t = cpuTicks(server.pid); const f = await load(server.url, scenario.request, 5);
  side.rps.push(f.rps); side.cpu.push(Math.round((cpuTicks(server.pid) - t) / 100 / f.total * 1e6));
  await server.stop();
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const s of sides) console.log(s.name, med(s.rps), med(s.cpu), s.rps.join(' '));
