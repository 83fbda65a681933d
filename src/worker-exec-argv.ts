/**
 * The node options a worker thread evaluated from source text starts with: the process's own,
 * less `--input-type`, which would make the worker's CommonJS source a module without
 * `require` (a process started as `node --input-type=module -e …` passes it on to its workers).
 */
export function workerExecArgv(): string[] {
  const argv: string[] = [];
  const given = process.execArgv;
  for (let i = 0; i < given.length; i++) {
    const arg = given[i] as string;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) argv.push(arg);
  }
  return argv;
}
