/**
 * The hosted login's self-service flows: a pool's `sign_up` and `forgot_password` are steps
 * like the sign-in's (each a pipe an admin can change), opened by a link on the first page
 * (`?flow=sign_up`), ending back at the sign-in with a notice. What each page offers beside
 * its form: those links, "back to sign in" inside a flow, "send a new code" on a step with a
 * `start`, and the flow's hint on its code step, worded so that it never says whether an
 * account exists ("if … we sent a code").
 */
import type { FormExtras, PageScope } from './login-pages.js';
import type { OidcPoolConfig, OidcStepConfig } from './schema.js';

export type SelfServiceFlow = 'sign_up' | 'forgot_password';
const FLOWS: readonly SelfServiceFlow[] = ['sign_up', 'forgot_password'];

/** The flow a link asks for: a flow the pool offers, null for the sign-in, undefined when none is asked (or not offered). */
export function requestedFlow(url: string | undefined, pool: OidcPoolConfig): SelfServiceFlow | null | undefined {
  const query = url?.includes('?') ? new URLSearchParams(url.slice(url.indexOf('?') + 1)) : undefined;
  const asked = query?.get('flow');
  if (asked === 'sign_in') return null;
  return FLOWS.find((flow) => flow === asked && pool[flow] !== undefined);
}

/** The steps of a flow, or the sign-in's. */
export function flowSteps(pool: OidcPoolConfig, flow: SelfServiceFlow | undefined): readonly OidcStepConfig[] {
  return (flow === undefined ? undefined : pool[flow]?.steps) ?? pool.steps;
}

/** Links, "send a new code" and the notice of a page (a message key, shown once). */
export function flowExtras(
  scope: PageScope,
  pool: OidcPoolConfig,
  flow: SelfServiceFlow | undefined,
  index: number,
  steps: readonly OidcStepConfig[],
  action: string,
  notice: string | undefined,
): FormExtras {
  const { t } = scope;
  const step = steps[index];
  const links =
    flow !== undefined
      ? [{ id: 'link-sign_in', href: `${action}?flow=sign_in`, text: t('link.sign_in') }]
      : index === 0
        ? FLOWS.filter((f) => pool[f] !== undefined).map((f) => ({ id: `link-${f}`, href: `${action}?flow=${f}`, text: t(`link.${f}`) }))
        : [];
  const hint = flow !== undefined && step?.start !== undefined ? `hint.${flow}` : undefined;
  const key = notice ?? hint;
  return {
    links,
    ...(flow !== undefined ? { title: t(`${flow}.title`) } : {}),
    ...(index > 0 && step?.start !== undefined ? { resend: t('resend') } : {}),
    ...(key !== undefined ? { info: { code: key, text: t(key) } } : {}),
  };
}
