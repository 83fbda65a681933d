/**
 * What the schema cannot say of upstream OpenID providers (`oidc.tenants.<t>.upstreams`) and
 * the pool steps that name them: a step has `upstream` or `fields`, never both or neither, and
 * names an upstream of its tenant; an issuer is on outbound.allow and is https (http only on
 * a loopback host); the scopes ask for openid; a claim mapping sets no name the engine or the
 * login sets itself.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { MainConfig } from '../config/main-schema.js';
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { DEVICE_ID } from './device.js';
import { ACR_VALUES, LOGIN_SUB, UPSTREAM_IDP, UPSTREAM_SUB, type OidcStepConfig } from './schema.js';

const SET_BY_LOGIN = new Set([LOGIN_SUB, DEVICE_ID, ACR_VALUES, UPSTREAM_IDP, UPSTREAM_SUB]);

export function checkUpstreamStep(
  step: OidcStepConfig,
  upstreams: Readonly<Record<string, unknown>>,
  at: (...rest: (string | number)[]) => string,
  file: string,
  issues: ConfigIssue[],
): void {
  if ((step.upstream === undefined) === (step.fields === undefined))
    issues.push({
      code: 'CONFIG_INVALID',
      file,
      pointer: at(),
      message: 'a login step has either "fields" (a form) or "upstream" (a button to an upstream provider), not both or neither',
    });
  (step.upstream_alternatives ?? []).forEach((alternative, i) => {
    if (!Object.hasOwn(upstreams, alternative.upstream))
      issues.push({
        code: 'CONFIG_REFERENCE',
        file,
        pointer: at('upstream_alternatives', i, 'upstream'),
        message: `upstream "${alternative.upstream}" is not in this tenant's "upstreams" or "saml_upstreams"`,
      });
  });
  if (step.upstream !== undefined && !Object.hasOwn(upstreams, step.upstream))
    issues.push({
      code: 'CONFIG_REFERENCE',
      file,
      pointer: at('upstream'),
      message: `upstream "${step.upstream}" is not in this tenant's "upstreams"`,
    });
}

export function checkUpstreams(main: MainConfig, file: string, outbound: OutboundPolicy | undefined, issues: ConfigIssue[]): void {
  for (const [tenant, config] of Object.entries(main.oidc?.tenants ?? {}))
    for (const [id, upstream] of Object.entries(config.upstreams ?? {})) {
      const at = (...rest: string[]) => pointer('oidc', 'tenants', tenant, 'upstreams', id, ...rest);
      const issuer = new URL(upstream.issuer);
      const refused = outbound ? outbound.refusal(issuer) : 'there is no outbound policy';
      if (refused !== undefined) issues.push({ code: 'CONFIG_OUTBOUND', file, pointer: at('issuer'), message: refused });
      if (issuer.protocol === 'http:' && !isLoopback(issuer.hostname))
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at('issuer'),
          message: `an upstream issuer must be https (http only on a loopback host: 127.0.0.1, [::1], localhost), not ${issuer.origin}`,
        });
      if (!upstream.scopes.includes('openid'))
        issues.push({ code: 'CONFIG_INVALID', file, pointer: at('scopes'), message: 'the scopes must include "openid"' });
      for (const name of Object.keys(upstream.claims))
        if (RESERVED_REQUEST_NAMES.has(name) || SET_BY_LOGIN.has(name))
          issues.push({
            code: 'CONFIG_INVALID',
            file,
            pointer: at('claims', name),
            message: `"${name}" is set by the engine or the login page, not by a claim mapping`,
          });
    }
}

/**
 * SAML identity providers: an id not also an OpenID upstream's (they share the callback
 * paths), an SSO URL that is https (http only on a loopback host), PEM that parses and a
 * certificate that matches our key, and attribute mappings that set no reserved name.
 */
export function checkSamlUpstreams(main: MainConfig, file: string, issues: ConfigIssue[]): void {
  for (const [tenant, config] of Object.entries(main.oidc?.tenants ?? {}))
    for (const [id, saml] of Object.entries(config.saml_upstreams ?? {})) {
      const at = (...rest: string[]) => pointer('oidc', 'tenants', tenant, 'saml_upstreams', id, ...rest);
      const invalid = (where: string, message: string) => issues.push({ code: 'CONFIG_INVALID', file, pointer: at(where), message });
      if (config.upstreams && Object.hasOwn(config.upstreams, id))
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at(),
          message: `"${id}" is also an OpenID upstream of this tenant; ids are shared`,
        });
      const sso = new URL(saml.sso_url);
      if (sso.protocol === 'http:' && !isLoopback(sso.hostname))
        invalid('sso_url', `the SSO URL must be https (http only on a loopback host), not ${sso.origin}`);
      let cert: X509Certificate | undefined;
      try {
        new X509Certificate(saml.idp_cert);
      } catch {
        invalid('idp_cert', 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
      }
      try {
        cert = new X509Certificate(saml.sp_cert);
      } catch {
        invalid('sp_cert', 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
      }
      try {
        const key = createPrivateKey(saml.sp_key);
        if (cert && !cert.checkPrivateKey(key)) invalid('sp_cert', 'this certificate is not the one of sp_key');
      } catch {
        invalid('sp_key', 'expected an unencrypted PEM private key (PKCS#8 or PKCS#1, BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)');
      }
      for (const name of Object.keys(saml.attributes))
        if (RESERVED_REQUEST_NAMES.has(name) || SET_BY_LOGIN.has(name) || name === 'email_verified')
          invalid(
            'attributes',
            `"${name}" is set by the engine or the login page (email_verified by the "email_verified" setting), not by an attribute mapping`,
          );
    }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  return (isIP(bare) === 4 && bare.startsWith('127.')) || bare === '::1';
}
