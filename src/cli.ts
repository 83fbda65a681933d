#!/usr/bin/env node
/**
 * The `authpipe` command. Each subcommand lives in cli/<name>.ts and is listed once in
 * cli/index.ts; cli/main.ts dispatches, with help, version and usage errors.
 */
import { main } from './cli/main.js';

main(process.argv.slice(2)).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
});
