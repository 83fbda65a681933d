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
}

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
  };
}
