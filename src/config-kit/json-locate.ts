/**
 * Finds where JSON text stops being valid, for error messages: V8's JSON.parse does not
 * always say ("Unexpected token … is not valid JSON"). Only run after JSON.parse failed.
 * Iterative, so a deeply nested file cannot overflow the stack.
 */
export function locateJsonError(text: string): number {
  let i = 0;
  const stack: ('{' | '[')[] = [];
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i += 1;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    i += 1;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i += 1;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1] ?? '';
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return false;
          i += 6;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') i += 2;
        else return false;
      } else i += 1;
    }
    return false;
  };
  const scalar = (): boolean => {
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  // value := string | scalar | '{' members '}' | '[' elements ']'
  let expectValue = true;
  for (;;) {
    ws();
    if (expectValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c);
        i += 1;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i += 1;
          expectValue = false;
          continue;
        }
        if (c === '{') {
          if (!string()) return i;
          ws();
          if (text[i] !== ':') return i;
          i += 1;
        }
        continue;
      }
      if (!(c === '"' ? string() : scalar())) return i;
      expectValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i < text.length ? i : text.length;
    const c = text[i];
    if (c === ',') {
      i += 1;
      if (top === '{') {
        ws();
        if (!string()) return i;
        ws();
        if (text[i] !== ':') return i;
        i += 1;
      }
      expectValue = true;
    } else if (c === (top === '{' ? '}' : ']')) {
      stack.pop();
      i += 1;
    } else return i;
  }
}
