/**
 * The pages oidc-provider asks us for (sign-out confirmation, signed out, an error), drawn with
 * the hosted login's templates and the tenant's branding, in the language the request asks for
 * (its ui_locales, else Accept-Language, else English).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { HostedUi } from './hosted-ui.js';
import { noticePage, type PageScope } from './login-pages.js';
import { chooseLanguage, translator } from './messages.js';

export interface ProviderPages {
  /** The end_session confirmation around the provider's form (its action and xsrf); `auto` submits itself. */
  logout(ctx: KoaContextWithOIDC, form: string, auto: boolean): string;
  signedOut(ctx: KoaContextWithOIDC): string;
  error(ctx: KoaContextWithOIDC, code: string, status: number): string;
  /** RFC 8628's user-code page around the provider's form (its action and xsrf); `failure` names what was wrong with a code. */
  deviceInput(ctx: KoaContextWithOIDC, form: string, failure: string | undefined): string;
  /** The question before a device is signed in: the app and the code it shows. */
  deviceConfirm(ctx: KoaContextWithOIDC, form: string, clientId: string, userCode: string): string;
  deviceDone(ctx: KoaContextWithOIDC): string;
}

const DEVICE_FAILURES = new Set(['NotFoundError', 'ExpiredError', 'AlreadyUsedError', 'NoCodeError', 'AbortedError']);
const formAction = (form: string) => /action="([^"]*)"/.exec(form)?.[1] ?? '';
const formXsrf = (form: string) => /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? '';

export function providerPages(ui: HostedUi, tenant: { id: string; displayName: string }): ProviderPages {
  const scopeOf = (ctx: KoaContextWithOIDC): PageScope => {
    const language = chooseLanguage(ctx.oidc?.params?.ui_locales, ctx.get('accept-language') || undefined, 'en');
    return { ui, tenant, language, t: translator(language) };
  };
  const frame = (scope: PageScope, titleKey: string) => ({
    tenant: tenant.id,
    tenantName: tenant.displayName,
    pool: undefined,
    lang: scope.language,
    title: scope.t(titleKey),
  });
  return {
    logout(ctx, form, auto) {
      const scope = scopeOf(ctx);
      return ui.render('logout', frame(scope, auto ? 'signing_out.title' : 'sign_out.title'), {
        action: /action="([^"]*)"/.exec(form)?.[1] ?? '',
        xsrf: /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? '',
        auto,
        question: scope.t('sign_out.question'),
        button: scope.t('sign_out.button'),
      });
    },
    signedOut(ctx) {
      const scope = scopeOf(ctx);
      return ui.render('notice', frame(scope, 'signed_out.title'), { code: 'signed_out', text: scope.t('signed_out.text') });
    },
    error(ctx, code, status) {
      const scope = scopeOf(ctx);
      return noticePage(scope, 'failed.title', code, scope.t('failed.text', { code, status }));
    },
    deviceInput(ctx, form, failure) {
      const scope = scopeOf(ctx);
      const known = failure !== undefined && DEVICE_FAILURES.has(failure);
      return ui.render('device', frame(scope, 'device.title'), {
        input: true,
        action: formAction(form),
        xsrf: formXsrf(form),
        user_code: /value="([^"]*)" [^>]*name="user_code"/.exec(form)?.[1] ?? '',
        label: scope.t('device.label'),
        button: scope.t('continue'),
        error:
          failure === undefined ? undefined : { code: failure, text: scope.t(known ? `device.error.${failure}` : 'device.error.default') },
      });
    },
    deviceConfirm(ctx, form, clientId, userCode) {
      const scope = scopeOf(ctx);
      return ui.render('device', frame(scope, 'device.confirm_title'), {
        confirm: true,
        action: formAction(form),
        xsrf: formXsrf(form),
        user_code: userCode,
        question: scope.t('device.confirm_question', { client: clientId }),
        button: scope.t('device.confirm_button'),
        cancel: scope.t('device.cancel'),
      });
    },
    deviceDone(ctx) {
      const scope = scopeOf(ctx);
      return ui.render('notice', frame(scope, 'device.done_title'), { code: 'device_done', text: scope.t('device.done_text') });
    },
  };
}
