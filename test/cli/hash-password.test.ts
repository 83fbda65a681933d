import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { readPassword, type PasswordInput } from '../../src/cli/hash-password.js';
import { hashPassword, verifyPassword } from '../../src/credentials/hash.js';
import { parsePhc, type ParsedHash } from '../../src/credentials/phc.js';

function piped(text: string | Buffer): PassThrough {
  const input = new PassThrough();
  input.end(text);
  return input;
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A stream that behaves as a terminal: raw mode is recorded, keys are typed one chunk at a time. */
function terminal(keys: string[]): PassThrough & PasswordInput & { rawModes: boolean[] } {
  const input = new PassThrough() as PassThrough & PasswordInput & { rawModes: boolean[] };
  input.isTTY = true;
  input.rawModes = [];
  input.setRawMode = (mode: boolean) => {
    input.rawModes.push(mode);
    return input;
  };
  let i = 0;
  const typeNext = () => {
    if (i < keys.length) {
      input.write(keys[i++] as string);
      setImmediate(typeNext);
    }
  };
  setImmediate(typeNext);
  return input;
}

describe('hash-password input', () => {
  it('reads a piped password, dropping one trailing newline', async () => {
    const prompt = sink();
    expect(await readPassword(piped('till-001-pass\n'), prompt.stream)).toBe('till-001-pass');
    expect(await readPassword(piped('with spaces \r\n'), prompt.stream)).toBe('with spaces ');
    expect(await readPassword(piped('a:b:c'), prompt.stream)).toBe('a:b:c');
    expect(prompt.text()).toBe('');
  });

  it('normalises to NFC, as logins do', async () => {
    expect(await readPassword(piped('cafe\u0301'), sink().stream)).toBe('caf\u00e9');
  });

  it.each([
    ['empty input', '', /empty password/],
    ['a lone newline', '\n', /empty password/],
    ['a tab', 'a\tb', /control character/],
    ['two lines', 'a\nb\n', /control character/],
    ['a NUL', 'a\u0000b', /control character/],
    ['invalid UTF-8', Buffer.from([0x61, 0xff]), /not valid UTF-8/],
    ['a 5,000-byte password', 'p'.repeat(5000), /over 4096 bytes/],
    ['70 KiB of input', 'p'.repeat(70 * 1024), /input over/],
  ])('refuses %s', async (_name, text, message) => {
    await expect(readPassword(piped(text), sink().stream)).rejects.toThrow(message);
  });

  it('on a terminal: prompts twice, echoes nothing, handles backspace, restores the mode', async () => {
    const prompt = sink();
    const input = terminal(['s3cr', 'x', '\u007f', 'et', '\r', 's3cret', '\r']);
    expect(await readPassword(input, prompt.stream)).toBe('s3cret');
    expect(prompt.text()).toBe('Password: \nAgain: \n');
    expect(input.rawModes).toEqual([true, false]);
  });

  it('on a terminal: keeps keys typed ahead for the second prompt', async () => {
    expect(await readPassword(terminal(['ahead\rahead\r']), sink().stream)).toBe('ahead');
  });

  it('on a terminal: refuses when the two entries differ, and aborts on Ctrl-C', async () => {
    await expect(readPassword(terminal(['one\r', 'two\r']), sink().stream)).rejects.toThrow(/differ/);
    const input = terminal(['secr', '\u0003']);
    await expect(readPassword(input, sink().stream)).rejects.toThrow(/aborted/);
    expect(input.rawModes).toEqual([true, false]);
  });

  it('the printed hash verifies the password it read', async () => {
    const password = await readPassword(piped('123£\n'), sink().stream);
    const phc = await hashPassword(password, { ln: 12, r: 8, p: 1 });
    const parsed = parsePhc(phc) as ParsedHash;
    expect(await verifyPassword('123£', parsed)).toBe(true);
  });
});
