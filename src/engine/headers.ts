/**
 * A call's request headers, by lower-case name with every value kept (a doubled header has
 * two). The PUT door hands over node's raw header lines (name, value, name, value…) as they
 * are, and the few headers a call reads (tenant, content type, Authorization) are found by a
 * scan of those lines. The whole set is built only for a valve that asks for it (a DPoP
 * proof). Node's own `headersDistinct` built that set, a null-prototype dictionary of arrays,
 * on every call: measured, 1.3 KB allocated a call and the largest share of the call's
 * megamorphic property stores.
 */
export type RequestHeaders = Readonly<Record<string, readonly string[]>>;

/** Node's raw header lines of one request, as the parser gave them: names in their sent case. */
export class RawHeaders {
  constructor(readonly lines: readonly string[]) {}
}

/** The values of header `name` (lower case) among raw header lines, in order; undefined when it is absent. */
export function headerValues(lines: readonly string[], name: string): string[] | undefined {
  let values: string[] | undefined;
  for (let i = 0; i < lines.length; i += 2) {
    const line = lines[i] as string;
    // Most names are sent in lower case (HTTP/2 requires it, and most clients do): no copy then.
    if (line.length === name.length && (line === name || line.toLowerCase() === name)) {
      if (values) values.push(lines[i + 1] as string);
      else values = [lines[i + 1] as string];
    }
  }
  return values;
}

/** Every header of raw header lines, by lower-case name: a null-prototype object, so no name can reach a prototype. */
export function headersByName(lines: readonly string[]): RequestHeaders {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i < lines.length; i += 2) {
    const name = (lines[i] as string).toLowerCase();
    const value = lines[i + 1] as string;
    const values = out[name];
    if (values) values.push(value);
    else out[name] = [value];
  }
  return out;
}
