/**
 * "Try another way": a sign-in step may list `alternatives`, other ways to pass it (an app's
 * code instead of the SMS, …), each a pipe with its own fields and `start`. The page offers the
 * ways not in use as buttons posting `way=<id>`; the login runs the chosen one in the step's
 * place. Only the ways the step lists can be chosen: anything else is STEP_NOT_OFFERED.
 */
import type { FormExtras, PageScope } from './login-pages.js';
import { localized } from './messages.js';
import { DEFAULT_WAY, type OidcStepConfig } from './schema.js';

const chosen = new WeakMap<object, OidcStepConfig>();

/** The step as the way `id` passes it (its own way for undefined or "default"); undefined when the step lists no such way. */
export function wayOf(step: OidcStepConfig, id: string | undefined): OidcStepConfig | undefined {
  if (id === undefined || id === DEFAULT_WAY) return step;
  const way = step.alternatives?.find((w) => w.id === id);
  if (way === undefined) return undefined;
  let asStep = chosen.get(way);
  if (!asStep) {
    const { operation, start, fields, amr, acr, title } = way;
    asStep = {
      operation,
      fields,
      ...(start !== undefined ? { start } : {}),
      ...(amr ? { amr } : {}),
      ...(acr ? { acr } : {}),
      ...(title ? { title } : {}),
    };
    chosen.set(way, asStep);
  }
  return asStep;
}

/** The buttons of the ways other than the one in use, under "Try another way"; nothing for a step without alternatives. */
export function waysExtras(scope: PageScope, step: OidcStepConfig, current: string | undefined): FormExtras {
  if (step.alternatives === undefined) return {};
  const { t, language } = scope;
  const all = [
    { id: DEFAULT_WAY, text: localized(step.choice, language) ?? t('way.default') },
    ...step.alternatives.map((way) => ({ id: way.id, text: localized(way.choice, language) as string })),
  ];
  return { ways: all.filter((way) => way.id !== (current ?? DEFAULT_WAY)), waysTitle: t('way.title') };
}
