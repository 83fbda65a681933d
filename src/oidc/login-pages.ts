/**
 * The hosted login's pages as template views: a step's form (form.html) and a notice
 * (notice.html), each inside page.html, in the page's language, with the pool's branding. The
 * form keeps its field names and the alert its `data-code` (apps' tests and ours read them);
 * the text of a refusal is chosen by its error code alone.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';
import type { HostedUi } from './hosted-ui.js';
import { localized, type Language, type Translate } from './messages.js';
import type { OidcPoolConfig, OidcStepConfig } from './schema.js';

export const MAX_VALUE_CHARS = 1024;

/** @simplewebauthn/browser's bundle, then the page script that uses it (hosted-ui.ts serves both). */
const PASSKEY_SCRIPTS = ['webauthn.js', 'passkey.js'] as const;

/** Where a page is shown: whose, for which pool (when known), in which language. */
export interface PageScope {
  ui: HostedUi;
  tenant: { id: string; displayName: string };
  pool?: { id: string; config: OidcPoolConfig } | undefined;
  language: Language;
  t: Translate;
  /** The button's name of an upstream step (federation.ts). */
  upstreamName?: (idp: string) => string;
}

/** An error shown on a form: its code (the alert's data-code) and text. */
export interface ShownError {
  code: string;
  text: string;
}

/** The text of a refusal, by its code only. */
export function refusalText(t: Translate, code: ErrorCode): string {
  const key = `error.${code}`;
  const text = t(key);
  return text === key ? t('error.default') : text;
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(html));
  res.end(html);
}

function frame(scope: PageScope, title: string) {
  return {
    tenant: scope.tenant.id,
    tenantName: scope.tenant.displayName,
    pool: scope.pool?.id,
    lang: scope.language,
    title,
    subtitle: localized(scope.pool?.config.title, scope.language),
  };
}

/** A page that says one thing, with its code in data-code. */
export function noticePage(
  scope: PageScope,
  titleKey: string,
  code: string,
  text: string,
  /** A way on from here (the account page's "Sign in"). */
  link?: { id: string; href: string; label: string },
): string {
  return scope.ui.render('notice', frame(scope, scope.t(titleKey)), { code, text, link });
}

const inputKind = (name: string, type: string | undefined) =>
  type ?? (name.includes('password') ? 'password' : name === 'otp' || name.endsWith('code') ? 'code' : 'text');

function defaultLabel(t: Translate, name: string): string {
  const key = `field.${name}`;
  const text = t(key);
  return text !== key ? text : name.replace(/[_.-]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** What a page of the hosted login may offer beside its form: links (sign-up, forgot password, back), "send a new code", a notice. */
export interface FormExtras {
  links?: readonly { href: string; text: string; id: string }[];
  /** The text of the "send a new code" button; absent: no button. */
  resend?: string;
  /** A notice that is not an error (account created, code sent, password changed), with its code in data-code. */
  info?: ShownError;
  /** The heading when the step sets none (a self-service flow's); default sign-in or confirm. */
  title?: string;
  /** The "Remember me" checkbox of the first page, when the pool offers it. */
  remember?: { text: string; checked: boolean };
  /** "Try another way": the step's other ways (each posts `way=<id>`), under the heading `waysTitle`. */
  ways?: readonly { id: string; text: string }[];
  waysTitle?: string;
  /** Passkeys on this page (passkey-login.ts): sign in with one, or add one; loads the page script. */
  passkey?: 'sign_in' | 'enrol';
  /** The main button's text instead of "Continue". */
  submit?: string;
}

/**
 * A step's form. `values` refills fields after a refusal (never a password or a code); with
 * one field the error is shown under it, else above the form.
 */
export function formPage(
  scope: PageScope,
  step: OidcStepConfig,
  first: boolean,
  csrf: string,
  action: string,
  error?: ShownError,
  values?: ReadonlyMap<string, string>,
  extras: FormExtras = {},
): string {
  const { t, language } = scope;
  const title = localized(step.title, language) ?? extras.title ?? t(first ? 'sign_in.title' : 'confirm.title');
  const beside = error !== undefined && step.fields?.length === 1;
  let focused = false;
  const fields = (step.fields ?? []).map((field, i) => {
    const kind = inputKind(field.name, field.type);
    const value = kind === 'text' ? (values?.get(field.name) ?? '') : '';
    const autofocus = !focused && value === '';
    focused ||= autofocus;
    return {
      id: `f-${i}`,
      name: field.name,
      label: localized(field.label, language) ?? defaultLabel(t, field.name),
      type: kind === 'password' ? 'password' : 'text',
      autocomplete:
        kind === 'password'
          ? field.name.startsWith('new')
            ? 'new-password'
            : 'current-password'
          : kind === 'code'
            ? 'one-time-code'
            : field.name === 'username'
              ? extras.passkey === 'sign_in'
                ? 'username webauthn'
                : 'username'
              : 'off',
      numeric: kind === 'code',
      plain: kind === 'text',
      value,
      maxlength: MAX_VALUE_CHARS,
      invalid: error !== undefined,
      autofocus,
      field_error: beside ? error : undefined,
    };
  });
  const passkey =
    extras.passkey === undefined
      ? undefined
      : { mode: extras.passkey, button: t(`passkey.${extras.passkey}`), failed: t('passkey.failed') };
  return scope.ui.render(
    'form',
    { ...frame(scope, title), ...(passkey ? { scripts: PASSKEY_SCRIPTS } : {}) },
    {
      error: beside ? undefined : error,
      action,
      csrf,
      fields,
      submit:
        extras.submit ??
        (step.upstream === undefined
          ? t('continue')
          : t('federation.button', { name: scope.upstreamName?.(step.upstream) ?? step.upstream })),
      passkey,
      // Upstream sign-ins beside the step's form: a button each, each its own small form.
      alternatives: (step.upstream_alternatives ?? []).map((alt) => ({
        idp: alt.upstream,
        label: t('federation.button', { name: scope.upstreamName?.(alt.upstream) ?? alt.upstream }),
      })),
      info: extras.info,
      resend: extras.resend,
      links: extras.links ?? [],
      has_links: (extras.links ?? []).length > 0,
      remember: extras.remember,
      ways: extras.ways ?? [],
      has_ways: (extras.ways ?? []).length > 0,
      ways_title: extras.waysTitle,
    },
  );
}
