/**
 * The branding fields of a pool or a tenant: display name, logo, extra stylesheet and the
 * default theme's colours, exactly the members the config has. A field left empty is left out
 * of the save, so the tenant's branding (for a pool) or the default look applies. An issue of a
 * refusal about one of them (a 400's body pointer, or a 422's pointer into the main file) is
 * shown under its field, which it describes, rather than only in the list at the top.
 */
import type { Body, Failure } from './api';

export type Branding = Body<'PUT /admin/branding'>;
type Colour = keyof NonNullable<Branding['colors']>;

const COLOURS: [Colour, string][] = [
  ['background', 'Page background colour'],
  ['surface', 'Card colour'],
  ['text', 'Text colour'],
  ['accent', 'Accent colour (the button, links and focus ring)'],
  ['accent_text', 'Button text colour'],
  ['error', 'Error colour'],
];

export interface FieldIssue {
  pointer: string;
  message: string;
}

/** Every issue of a refusal with its pointer: a 422's config issues, and a 400's body problems ("pointer: what; …"). */
export function fieldIssues(body: Failure | null): FieldIssue[] {
  const issues = (body?.issues ?? []).map((i) => ({ pointer: i.pointer, message: i.message }));
  const parts = (body?.message ?? '').split('; ');
  for (const pointer of body?.erroneousProperties ?? []) {
    const said = parts.find((part) => part.startsWith(`${pointer}: `));
    if (said) issues.push({ pointer, message: said.slice(pointer.length + 2) });
  }
  return issues;
}

/** The branding to save: trimmed, empty fields and an empty colours object left out; undefined when nothing is set. */
export function brandingToSave(draft: Branding): Branding | undefined {
  const text = (value: string | undefined) => value?.trim() || undefined;
  const colors = Object.fromEntries(
    Object.entries(draft.colors ?? {})
      .map(([name, value]) => [name, text(value)])
      .filter(([, value]) => value !== undefined),
  ) as Branding['colors'];
  const out: Branding = {};
  for (const key of ['display_name', 'logo', 'stylesheet'] as const) {
    const value = text(draft[key]);
    if (value !== undefined) out[key] = value;
  }
  if (Object.keys(colors ?? {}).length > 0) out.colors = colors;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The fields, for a form of the page. `id` prefixes the inputs' ids; `root` is where the
 * branding sits in the request body ('' for a tenant's, '/branding' for a pool's); `inherited`
 * (a pool's tenant's branding) shows as each empty field's placeholder.
 */
export function BrandingFields({
  id,
  root,
  value,
  issues,
  inherited,
  onChange,
}: {
  id: string;
  root: string;
  value: Branding;
  issues: FieldIssue[];
  inherited?: Branding | undefined;
  onChange: (next: Branding) => void;
}) {
  const field = (path: string, label: string, hint: string, update: (text: string) => void) => {
    const [key, colour] = path.split('/') as [keyof Branding, Colour | undefined];
    const of = (b: Branding | undefined) => (colour ? b?.colors?.[colour] : (b?.[key] as string | undefined));
    const current = of(value);
    const fallback = of(inherited);
    const fieldId = `${id}-${path.replace('/', '-')}`;
    const problems = issues.filter((i) => i.pointer === `${root}/${path}` || i.pointer.endsWith(`/branding/${path}`));
    const described = [`${fieldId}-hint`, ...(problems.length > 0 ? [`${fieldId}-issue`] : [])].join(' ');
    return (
      <div class="field">
        <label for={fieldId}>{label}</label>
        <input
          id={fieldId}
          value={current ?? ''}
          placeholder={fallback}
          aria-invalid={problems.length > 0 ? 'true' : undefined}
          aria-describedby={described}
          onInput={(e) => update((e.target as HTMLInputElement).value)}
        />
        <span class="hint muted" id={`${fieldId}-hint`}>
          {hint}
        </span>
        {problems.length > 0 && (
          <span class="field-issue bad" id={`${fieldId}-issue`}>
            {problems.map((p) => p.message).join(' ')}
          </span>
        )}
      </div>
    );
  };
  const asset = 'A path of this server (/oidc/<tenant>/assets/<file>) or a URL of its public origin; an off-site URL is refused.';
  return (
    <div class="branding">
      {field('display_name', 'Name shown on the login page', 'Above the form, and the logo’s text (display_name).', (text) =>
        onChange({ ...value, display_name: text }),
      )}
      {field('logo', 'Logo URL', asset, (text) => onChange({ ...value, logo: text }))}
      {field('stylesheet', 'Extra stylesheet URL', `Loaded after the default theme. ${asset}`, (text) =>
        onChange({ ...value, stylesheet: text }),
      )}
      {COLOURS.map(([name, label]) =>
        field(`colors/${name}`, label, 'A colour such as #0b57d0 or rgb(11 87 208).', (text) =>
          onChange({ ...value, colors: { ...value.colors, [name]: text } }),
        ),
      )}
    </div>
  );
}
