/**
 * A tenant's and its pools' branding, merged and checked at load: a pool's keys override its
 * tenant's (colours one by one); the logo and the extra stylesheet must come from this server
 * (a path, or a URL of public_url's origin), since the page loads nothing from elsewhere and its
 * CSP allows only 'self'; colours become a small theme stylesheet served beside the default one,
 * so the page needs no inline style.
 */
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { BrandingConfig, OidcConfig } from './schema.js';

export interface Brand {
  displayName: string | undefined;
  /** Same-origin URLs as configured (an asset's gets its version at render). */
  logo: string | undefined;
  stylesheet: string | undefined;
  /** The theme stylesheet's text, `:root { --ap-…: … }`; undefined when no colour is set. */
  themeCss: string | undefined;
}

/** The branding of `pool` (undefined: the tenant's own, for pages before a pool is known). */
export function mergeBranding(tenant: BrandingConfig | undefined, pool: BrandingConfig | undefined): Brand {
  const colors = { ...tenant?.colors, ...pool?.colors };
  const declarations = Object.entries(colors).map(([name, value]) => `  --ap-${name.replace('_', '-')}: ${value};`);
  return {
    displayName: pool?.display_name ?? tenant?.display_name,
    logo: pool?.logo ?? tenant?.logo,
    stylesheet: pool?.stylesheet ?? tenant?.stylesheet,
    themeCss: declarations.length > 0 ? `:root {\n${declarations.join('\n')}\n}\n` : undefined,
  };
}

/** `/oidc/<tenant>/assets/<name>`: the name of one of our assets, or undefined for any other path. */
export function assetNameOf(path: string): string | undefined {
  return /^\/oidc\/[^/]+\/assets\/([^/?#]+)$/.exec(path)?.[1];
}

/**
 * Every logo and stylesheet URL of the section: a path of this server (an asset path must name
 * a file the templates folder has), or an absolute URL of public_url's origin; anything else,
 * off-site or not a URL, is an issue at its pointer.
 */
export function checkBrandingUrls(oidc: OidcConfig, file: string, hasAsset: (name: string) => boolean, issues: ConfigIssue[]): void {
  const publicOrigin = oidc.public_url === undefined ? undefined : new URL(oidc.public_url).origin;
  const check = (branding: BrandingConfig | undefined, at: (string | number)[]) => {
    for (const key of ['logo', 'stylesheet'] as const) {
      const url = branding?.[key];
      if (url === undefined) continue;
      const where = pointer(...at, 'branding', key);
      if (url.startsWith('/') && !url.startsWith('//') && !url.includes('\\')) {
        const asset = assetNameOf(url.split(/[?#]/)[0] as string);
        if (asset !== undefined && !hasAsset(asset))
          issues.push({
            code: 'CONFIG_REFERENCE',
            file,
            pointer: where,
            message: `"${url}" names no file in the templates folder's assets/`,
          });
        continue;
      }
      let origin: string | undefined;
      try {
        origin = new URL(url).origin;
      } catch {
        origin = undefined;
      }
      if (origin === undefined || origin !== publicOrigin)
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: where,
          message: `"${url}" is not served by this server: the ${key} must be a path here (/…) or a URL of public_url's origin (${publicOrigin ?? 'public_url is not set'}), since the page loads nothing from elsewhere`,
        });
    }
  };
  for (const [tenant, config] of Object.entries(oidc.tenants)) {
    check(config.branding, ['oidc', 'tenants', tenant]);
    for (const [pool, poolConfig] of Object.entries(config.pools ?? {}))
      check(poolConfig.branding, ['oidc', 'tenants', tenant, 'pools', pool]);
  }
}
