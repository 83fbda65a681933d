/**
 * Sets or removes one member of one object inside a JSON text, leaving every other byte as
 * it was: the directory is edited by hand too (one store per line, hashes aligned), and an
 * allocation should be a one-line diff, not a reformatted file. The caller compares the
 * result with the document it meant to write and falls back to a full rewrite if they differ.
 */

interface Member {
  key: string;
  keyStart: number;
  valueStart: number;
  valueEnd: number;
  value: Span;
}

interface Span {
  start: number;
  end: number;
  /** For objects: members in order and the index of the closing brace. */
  members?: Member[];
  close?: number;
  /** For arrays: the element spans. */
  items?: Span[];
}

class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  ws(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos] as string)) this.pos++;
  }

  value(): Span {
    this.ws();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === '{') return this.object(start);
    if (c === '[') return this.array(start);
    if (c === '"') {
      this.string();
      return { start, end: this.pos };
    }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) throw new Error(`unexpected character at ${this.pos}`);
    this.pos += m[0].length;
    return { start, end: this.pos };
  }

  string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  expect(c: string): void {
    this.ws();
    if (this.text[this.pos] !== c) throw new Error(`expected "${c}" at ${this.pos}`);
    this.pos++;
  }

  object(start: number): Span {
    this.pos++;
    const members: Member[] = [];
    this.ws();
    if (this.text[this.pos] !== '}') {
      for (;;) {
        this.ws();
        const keyStart = this.pos;
        const key = this.string();
        this.expect(':');
        const v = this.value();
        members.push({ key, keyStart, valueStart: v.start, valueEnd: v.end, value: v });
        this.ws();
        if (this.text[this.pos] === ',') {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.ws();
    const close = this.pos;
    this.expect('}');
    return { start, end: this.pos, members, close };
  }

  array(start: number): Span {
    this.pos++;
    const items: Span[] = [];
    this.ws();
    if (this.text[this.pos] !== ']') {
      for (;;) {
        items.push(this.value());
        this.ws();
        if (this.text[this.pos] === ',') {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.expect(']');
    return { start, end: this.pos, items };
  }
}

/** The span of the value at `path` (object keys and array indexes). */
function locate(text: string, path: readonly (string | number)[]): Span {
  const scanner = new Scanner(text);
  let span = scanner.value();
  for (const step of path) {
    if (typeof step === 'number') {
      const item = span.items?.[step];
      if (!item) throw new Error(`no element ${step}`);
      span = item;
    } else {
      const member = span.members?.find((m) => m.key === step);
      if (!member) throw new Error(`no member ${step}`);
      span = member.value;
    }
  }
  return span;
}

/** `text` with `key` of the object at `path` set to `value`, or removed when undefined. */
export function setMember(text: string, path: readonly (string | number)[], key: string, value: unknown): string {
  const target = locate(text, path);
  const members = target.members;
  if (!members || target.close === undefined) throw new Error('not an object');
  const index = members.findIndex((m) => m.key === key);
  const encoded = value === undefined ? '' : JSON.stringify(value);
  if (index >= 0) {
    const m = members[index] as Member;
    if (value !== undefined) return text.slice(0, m.valueStart) + encoded + text.slice(m.valueEnd);
    const previous = members[index - 1];
    const next = members[index + 1];
    if (previous) return text.slice(0, previous.valueEnd) + text.slice(m.valueEnd);
    if (next) return text.slice(0, m.keyStart) + text.slice(next.keyStart);
    return text.slice(0, m.keyStart) + text.slice(m.valueEnd);
  }
  if (value === undefined) return text;
  const last = members[members.length - 1];
  if (last) return `${text.slice(0, last.valueEnd)}, ${JSON.stringify(key)}: ${encoded}${text.slice(last.valueEnd)}`;
  return `${text.slice(0, target.start + 1)}${JSON.stringify(key)}: ${encoded}${text.slice(target.start + 1)}`;
}

/** `text` with `value` appended to the array at `path`, on a line of its own after the last item, indented as it is. */
export function appendItem(text: string, path: readonly (string | number)[], value: unknown): string {
  const target = locate(text, path);
  const last = target.items?.[target.items.length - 1];
  if (!target.items) throw new Error('not an array');
  if (!last) return `${text.slice(0, target.start + 1)}${JSON.stringify(value)}${text.slice(target.start + 1)}`;
  const lineStart = text.lastIndexOf('\n', last.start) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart, last.start))?.[0] ?? '';
  const separator = lineStart > target.start ? `,\n${indent}` : ', ';
  return `${text.slice(0, last.end)}${separator}${JSON.stringify(value)}${text.slice(last.end)}`;
}
