/**
 * The node options for a worker thread evaluated from CommonJS source text: undefined (the
 * process's own, node's default) unless the process was started with `--input-type`, which
 * would make that source a module without `require` (`node --input-type=module -e …` passes
 * it on to its workers); then the process's own less that one. Given explicitly, the list is
 * checked by node, which refuses per-process options such as --expose-gc or
 * --max-old-space-size in a worker: hence not given when it need not be.
 */
export function workerExecArgv(): string[] | undefined {
  const given = process.execArgv;
  if (!given.some((arg) => arg === '--input-type' || arg.startsWith('--input-type='))) return undefined;
  const argv: string[] = [];
  for (let i = 0; i < given.length; i++) {
    const arg = given[i] as string;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) argv.push(arg);
  }
  return argv;
}
