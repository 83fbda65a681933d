import { parseArgs } from 'node:util';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';
import { DEFAULT_SCRYPT, hashPassword } from '../credentials/hash.js';
import type { Command } from './command.js';

/**
 * `authpipe hash-password [--ln N]`: reads a password from stdin and prints its PHC scrypt
 * hash for config/directory.json. On a terminal it prompts twice with echo off; from a pipe
 * it reads everything, dropping one trailing newline. The password never appears in argv,
 * where `ps` and shell history would show it.
 */
const MAX_INPUT_BYTES = 64 * 1024;
const MAX_PASSWORD_BYTES = 4096;

export interface PasswordInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export const hashPasswordCommand: Command = {
  summary: 'read a password from stdin (no echo on a terminal) and print its PHC scrypt hash',
  usage:
    'usage: authpipe hash-password [--ln N]\n\n' +
    'Reads a password from stdin (on a terminal: twice, without echo) and prints its PHC scrypt hash.\n' +
    '  --ln N   cost: N = 2^ln, 14..20 (default 15)\n',
  async run(args) {
    const { values } = parseArgs({ args, options: { ln: { type: 'string', default: String(DEFAULT_SCRYPT.ln) } } });
    const ln = Number(values.ln);
    if (!Number.isInteger(ln) || ln < 14 || ln > 20) {
      process.stderr.write('authpipe hash-password: --ln must be an integer from 14 to 20 (N = 2^ln)\n');
      return 2;
    }
    let password: string;
    try {
      password = await readPassword(process.stdin, process.stderr);
    } catch (err) {
      process.stderr.write(`authpipe hash-password: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`${await hashPassword(password, { ...DEFAULT_SCRYPT, ln })}\n`);
    return 0;
  },
};

/** The checked, NFC-normalised password; throws with a message on bad input. */
export async function readPassword(input: PasswordInput, prompt: NodeJS.WritableStream): Promise<string> {
  let password: string;
  if (input.isTTY && input.setRawMode) {
    const [first, again] = await readHiddenLines(input, prompt, ['Password: ', 'Again: ']);
    if (again !== first) throw new Error('the passwords differ');
    password = first as string;
  } else {
    password = (await readAll(input)).replace(/\r?\n$/, '');
  }
  const problem = credentialTextProblem(password, MAX_PASSWORD_BYTES);
  if (problem === 'empty') throw new Error('empty password');
  if (problem === 'control_character') throw new Error('the password contains a control character (tab, newline, NUL, …)');
  if (problem === 'too_long') throw new Error(`the password is over ${MAX_PASSWORD_BYTES} bytes`);
  return normalizeCredential(password);
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`input over ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buf);
  }
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error('the input is not valid UTF-8');
  }
}

/**
 * Reads one line per label in raw mode, echoing nothing; Ctrl-C aborts, backspace edits.
 * Keys typed ahead arrive in one chunk, so what follows a line end is kept for the next.
 */
function readHiddenLines(input: PasswordInput, prompt: NodeJS.WritableStream, labels: readonly string[]): Promise<string[]> {
  input.setRawMode?.(true);
  input.setEncoding?.('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let line = '';
    prompt.write(labels[0] as string);
    const finish = (error: Error | null) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      if (error) {
        prompt.write('\n');
        reject(error);
      } else resolve(lines);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\u0003') return finish(new Error('aborted'));
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          prompt.write('\n');
          lines.push(line);
          line = '';
          if (lines.length === labels.length) return finish(null);
          prompt.write(labels[lines.length] as string);
          continue;
        }
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else line += ch;
        if (line.length > MAX_PASSWORD_BYTES) return finish(new Error(`the password is over ${MAX_PASSWORD_BYTES} bytes`));
      }
    };
    input.on('data', onData);
  });
}
