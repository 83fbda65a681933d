import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic } from './credentials.js';
import { ConfigFixture } from './fixture.js';
import type { RunningServer } from './server.js';
import { outboxOf, readOutbox } from '../otp/outbox.js';

/**
 * The shipped till-approval demo (pipes/till-approval-start.json, till-approval-verify.json)
 * on a temp copy: codes go to a temp outbox, and the resend limits are lifted so a suite can
 * start many flows for one store manager. `edit` changes the main file (store, extra tenants).
 */
export interface ApprovalFixture {
  fixture: ConfigFixture;
  outbox: string;
}

export const MANAGER_MOBILE = { 'store-01': '+15550000101', 'store-02': '+15550000102' } as const;
export const TILLS = { 'till-001': 'till-001-pass', 'till-201': 'till-201-pass' } as const;

export function approvalFixture(edit: (main: any) => void = () => {}): ApprovalFixture {
  const fixture = ConfigFixture.fromDemo();
  const outbox = join(fixture.dir, 'var', 'otp-outbox.jsonl');
  const startFile = join(fixture.dir, 'pipes', 'till-approval-start.json');
  const start = JSON.parse(readFileSync(startFile, 'utf8'));
  const issue = start.valves.find((v: { name: string }) => v.name === 'otp-issue');
  expect(issue.config.sender).toEqual({ type: 'outbox', file: 'var/otp-outbox.jsonl' });
  Object.assign(issue.config, { cooldown_seconds: 0, max_per_hour: 1000, sender: { type: 'outbox', file: outbox } });
  fixture.writePipe('till-approval-start', start);
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.log = { level: 'silent' };
  edit(main);
  fixture.writeMain(main);
  return { fixture, outbox };
}

/** Step 1 for a till: its flow_id and the code its store's manager received. */
export async function startApproval(server: RunningServer, outbox: string, till: keyof typeof TILLS, mobile: string): Promise<{ flowId: string; code: string }> {
  const before = readOutbox(outbox).length;
  const res = await server.call('till-approval-start', {}, { authorization: basic(till, TILLS[till]) });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['flow_id']);
  // The code is delivered after the answer (off the caller's time): wait for it to land.
  const sent = (await outboxOf(outbox, before + 1)).slice(before);
  expect(sent).toHaveLength(1);
  expect(sent[0]?.recipient).toBe(mobile);
  return { flowId: res.body.flow_id as string, code: sent[0]?.code as string };
}
