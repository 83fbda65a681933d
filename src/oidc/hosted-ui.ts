/**
 * The hosted login's look, built once per config load (`services.hostedLogin`): the templates
 * (the shipped ones in ./templates, each replaceable by a file of the same name in
 * `oidc.templates_dir`) compiled, the stylesheet and the operator's assets read and versioned,
 * and each tenant's and pool's branding merged into a theme stylesheet. A page render only
 * fills a compiled template. Assets are served at /oidc/<tenant>/assets/<name>; the page links
 * them with `?v=<hash of the content>`, so a browser may keep them for a year and a change is
 * a new URL.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigIssue } from '../config-kit/issues.js';
import { mergeBranding, assetNameOf, checkBrandingUrls, type Brand } from './branding.js';
import { compileTemplate, TemplateSyntaxError, type Scope, type Template } from './render.js';
import type { OidcConfig } from './schema.js';

const SHIPPED = fileURLToPath(new URL('./templates/', import.meta.url));
const TEMPLATES = ['page', 'form', 'notice', 'logout', 'account', 'device'] as const;
type TemplateName = Exclude<(typeof TEMPLATES)[number], 'page'>;
const STYLESHEET = 'style.css';
/**
 * The page scripts, shipped only (an operator's assets cannot be scripts): @simplewebauthn/browser's
 * browser bundle, and the passkey page script that uses it (passkey-login.ts). Same-origin, so the
 * CSP allows them by 'self', never inline.
 */
const SCRIPT_TYPE = 'text/javascript; charset=utf-8';
function shippedScripts(): Map<string, Buffer> {
  const browser = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  return new Map([
    ['webauthn.js', readFileSync(join(dirname(browser), '..', 'dist', 'bundle', 'index.umd.min.js'))],
    ['passkey.js', readFileSync(join(SHIPPED, 'passkey.js'))],
  ]);
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** An asset is kept in memory for the load's life: each file and all together are bounded. */
const MAX_ASSET_BYTES = 512 * 1024;
const MAX_ASSETS_BYTES = 4 * 1024 * 1024;

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  /** Of the content: the `v` of the URL the pages link. */
  readonly version: string;
}

/** What every page gets besides its own variables (docs/hosted-login.md lists them all). */
interface PageFrame {
  tenant: string;
  /** The tenant's display name: the brand's name unless the branding sets one. */
  tenantName: string;
  /** undefined before the pool is known (an expired sign-in, the provider's own pages). */
  pool: string | undefined;
  lang: string;
  title: string;
  subtitle?: string | undefined;
  /** Shipped scripts the page loads (passkeys), by asset name. */
  scripts?: readonly string[];
}

export interface HostedUi {
  /** The asset `name` of `tenant` (the stylesheet, the themes, the templates folder's assets/). */
  asset(tenant: string, name: string): Asset | undefined;
  /** A whole page: `template` filled with `view`, inside page.html with the brand of the frame's tenant and pool. */
  render(template: TemplateName, frame: PageFrame, view: Scope): string;
}

const version = (body: Buffer) => createHash('sha256').update(body).digest('base64url').slice(0, 12);
const themeName = (pool: string | undefined) => (pool === undefined ? 'theme.css' : `theme-${pool}.css`);

interface LoadContext {
  file: string;
  dir: string;
  issues: ConfigIssue[];
  watch(file: string): void;
  hash(text: string): void;
}

export function loadHostedUi(oidc: OidcConfig, ctx: LoadContext): HostedUi | undefined {
  const issues: ConfigIssue[] = [];
  const issue = (code: ConfigIssue['code'], message: string) =>
    issues.push({ code, file: ctx.file, pointer: '/oidc/templates_dir', message });
  const folder = oidc.templates_dir === undefined ? undefined : resolve(ctx.dir, oidc.templates_dir);
  if (folder !== undefined && !(existsSync(folder) && statSync(folder).isDirectory())) issue('CONFIG_READ', `${folder} is not a folder`);
  const usable = folder !== undefined && issues.length === 0 ? folder : undefined;

  /** The operator's file when the folder has it, else the shipped one. */
  const read = (name: string): Buffer | undefined => {
    const own = usable === undefined ? undefined : join(usable, name);
    const path = own !== undefined && existsSync(own) ? own : join(SHIPPED, name);
    try {
      const body = readFileSync(path);
      if (path === own) {
        ctx.watch(own);
        ctx.hash(body.toString('utf8'));
      }
      return body;
    } catch (err) {
      issue('CONFIG_READ', `${path} cannot be read: ${(err as Error).message}`);
      return undefined;
    }
  };

  const templates = new Map<string, Template>();
  for (const name of TEMPLATES) {
    const text = read(`${name}.html`);
    if (text === undefined) continue;
    try {
      templates.set(name, compileTemplate(text.toString('utf8')));
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      issue('CONFIG_INVALID', `${name}.html: ${err.message}`);
    }
  }

  const shared = new Map<string, Asset>();
  const stylesheet = read(STYLESHEET);
  if (stylesheet) shared.set(STYLESHEET, { body: stylesheet, type: TYPES['.css'] as string, version: version(stylesheet) });
  for (const [name, body] of shippedScripts()) shared.set(name, { body, type: SCRIPT_TYPE, version: version(body) });
  const assetsDir = usable === undefined ? undefined : join(usable, 'assets');
  if (assetsDir !== undefined && existsSync(assetsDir)) {
    let total = 0;
    for (const name of readdirSync(assetsDir).sort()) {
      const type = TYPES[extname(name).toLowerCase()];
      const path = join(assetsDir, name);
      if (!ASSET_NAME.test(name) || type === undefined || !statSync(path).isFile()) continue;
      const body = readFileSync(path);
      total += body.length;
      if (body.length > MAX_ASSET_BYTES || total > MAX_ASSETS_BYTES) {
        issue(
          'CONFIG_INVALID',
          `assets/${name}: assets are kept in memory, at most ${MAX_ASSET_BYTES} bytes each and ${MAX_ASSETS_BYTES} in all`,
        );
        continue;
      }
      if (name === STYLESHEET || name.startsWith('theme')) {
        issue('CONFIG_INVALID', `assets/${name}: the names ${STYLESHEET} and theme*.css are the hosted login's own`);
        continue;
      }
      ctx.watch(path);
      ctx.hash(version(body));
      shared.set(name, { body, type, version: version(body) });
    }
  }
  checkBrandingUrls(oidc, ctx.file, (name) => shared.has(name), issues);
  ctx.issues.push(...issues);
  if (issues.length > 0) return undefined;

  const brands = new Map<string, Brand>();
  const themes = new Map<string, Map<string, Asset>>();
  for (const [tenant, config] of Object.entries(oidc.tenants)) {
    const own = new Map<string, Asset>();
    for (const pool of [undefined, ...Object.keys(config.pools ?? {})]) {
      const brand = mergeBranding(config.branding, pool === undefined ? undefined : config.pools?.[pool]?.branding);
      brands.set(`${tenant}\n${pool ?? ''}`, brand);
      if (brand.themeCss !== undefined) {
        const body = Buffer.from(brand.themeCss);
        own.set(themeName(pool), { body, type: TYPES['.css'] as string, version: version(body) });
      }
    }
    themes.set(tenant, own);
  }
  const asset = (tenant: string, name: string) => themes.get(tenant)?.get(name) ?? shared.get(name);
  /** A URL of the config: an asset path gets its version, any other stays as written. */
  const linked = (tenant: string, url: string) => {
    const name = assetNameOf(url);
    const found = name === undefined ? undefined : shared.get(name);
    return found ? `${url}?v=${found.version}` : url;
  };
  const page = templates.get('page') as Template;

  return {
    asset,
    render(template, frame, view) {
      const brand = brands.get(`${frame.tenant}\n${frame.pool ?? ''}`) ?? mergeBranding(undefined, undefined);
      const base = `/oidc/${frame.tenant}/assets/`;
      const theme = asset(frame.tenant, themeName(frame.pool));
      const stylesheets = [
        { href: `${base}${STYLESHEET}?v=${(shared.get(STYLESHEET) as Asset).version}` },
        ...(theme ? [{ href: `${base}${themeName(frame.pool)}?v=${theme.version}` }] : []),
        ...(brand.stylesheet !== undefined ? [{ href: linked(frame.tenant, brand.stylesheet) }] : []),
      ];
      const content = (templates.get(template) as Template)(view);
      return page({
        lang: frame.lang,
        title: frame.title,
        subtitle: frame.subtitle,
        brand_name: brand.displayName ?? frame.tenantName,
        logo: brand.logo === undefined ? undefined : linked(frame.tenant, brand.logo),
        stylesheets,
        scripts: (frame.scripts ?? []).map((name) => ({ src: `${base}${name}?v=${(shared.get(name) as Asset).version}` })),
        content,
      });
    },
  };
}
