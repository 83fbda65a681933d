import type { Trace, TraceChange, TraceStep } from './trace.js';

/**
 * The trace as an admin reads it in a terminal: one line per step (nested pipe-call steps
 * indented under their caller), then one line per property it touched.
 *
 *   #2 check-password (refuse)   refused   0.041 ms  INVALID_CREDENTIALS: wrong password
 *        + item.sub = "till-001"
 */
export function formatTrace(trace: Trace): string {
  const lines = [`trace: pipe ${trace.pipe}, tenant ${trace.tenant}, request ${trace.requestId}`];
  lines.push(`  request ${JSON.stringify(trace.request)}`);
  const width = Math.max(20, ...trace.steps.map((s) => name(s).length + s.depth * 2));
  for (const step of trace.steps) {
    const indent = '  '.repeat(step.depth + 1);
    const head = `${indent}${name(step)}`.padEnd(width + 2);
    lines.push(
      `${head}  ${step.outcome.padEnd(13)} ${step.outcome === 'skipped' ? '' : `${step.ms.toFixed(3)} ms`}${tail(step)}`.trimEnd(),
    );
    for (const change of step.changes) lines.push(`${indent}     ${formatChange(change)}`);
  }
  if (trace.status !== undefined)
    lines.push(`  answer ${trace.status}${trace.code ? ` ${trace.code}` : ''} in ${(trace.ms ?? 0).toFixed(3)} ms`);
  return lines.join('\n');
}

function name(step: TraceStep): string {
  const where = step.depth > 0 ? `${step.pipe}/` : '';
  const label = step.label === `${step.index}:${step.valve}` ? step.valve : `${step.label} (${step.valve})`;
  return `${where}#${step.index} ${label}`;
}

function tail(step: TraceStep): string {
  if (step.outcome === 'skipped') return `${step.reason ?? ''}${step.condition !== undefined ? `: ${JSON.stringify(step.condition)}` : ''}`;
  if (step.code) return `  ${step.code}${step.detail ? `: ${step.detail}` : ''}`;
  return '';
}

function formatChange(change: TraceChange): string {
  const where = change.scope === 'flow' ? `flow item ${change.name}` : `${change.scope}.${change.name}`;
  if (change.op === 'removed') return `- ${where}`;
  if (change.op === 'added') return change.scope === 'flow' ? `+ ${where}` : `+ ${where} = ${JSON.stringify(change.value)}`;
  return `~ ${where} = ${JSON.stringify(change.value)} (was ${JSON.stringify(change.previous)})`;
}
