/**
 * Every text of the hosted login, by language: `messages/<language>.json`, one flat object of
 * key → text, read once when this module loads. English is the reference: a test fails when a
 * shipped language lacks one of its keys, and a key missing at run time (an operator's edit)
 * reads in English rather than breaking the page. `{name}` in a text is replaced by a value;
 * the templates escape the result, so a text is plain text, never HTML.
 *
 * The language of a page: the first of the client's `ui_locales` we ship, else the first of the
 * browser's Accept-Language by weight, else the pool's `language`. A tag we cannot parse is
 * skipped, never an error: a page always has a language.
 */
import { readFileSync } from 'node:fs';

/** The languages shipped, each complete (the pool's `language` is one of them). */
export const LANGUAGES = ['en', 'sv', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const FOLDER = new URL('./messages/', import.meta.url);
const TEXTS: Readonly<Record<Language, Readonly<Record<string, string>>>> = Object.fromEntries(
  LANGUAGES.map((language) => [language, JSON.parse(readFileSync(new URL(`${language}.json`, FOLDER), 'utf8')) as Record<string, string>]),
) as Record<Language, Record<string, string>>;

/** BCP 47 in the shape browsers and apps send (`sv`, `sv-SE`, `zh-Hant-TW`); anything else is skipped. */
const TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
/** At most this many tags are looked at: a header is the browser's, not a list to search. */
const MAX_TAGS = 20;

function shipped(tag: string): Language | undefined {
  if (!TAG.test(tag)) return undefined;
  const primary = tag.split('-')[0]?.toLowerCase();
  return LANGUAGES.find((l) => l === primary);
}

/** The page's language: `ui_locales` (space-separated, in order), then Accept-Language (by q), then `fallback`. */
export function chooseLanguage(uiLocales: unknown, acceptLanguage: string | undefined, fallback: Language): Language {
  if (typeof uiLocales === 'string')
    for (const tag of uiLocales.split(' ').slice(0, MAX_TAGS)) {
      const language = shipped(tag);
      if (language) return language;
    }
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .slice(0, MAX_TAGS)
      .map((part, order) => {
        const [tag = '', ...params] = part.trim().split(';');
        const q = params.map((p) => /^\s*q=([01](\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
        return { language: shipped(tag.trim()), q: q === undefined ? 1 : Number(q), order };
      })
      .filter((r) => r.language !== undefined && r.q > 0)
      .sort((a, b) => b.q - a.q || a.order - b.order);
    if (ranked[0]?.language) return ranked[0].language;
  }
  return fallback;
}

/** Translates `key` into `language`, `{name}` replaced by `values[name]`; English when the language lacks the key. */
export type Translate = (key: string, values?: Readonly<Record<string, string | number>>) => string;

export function translator(language: Language): Translate {
  const texts = TEXTS[language];
  return (key, values) => {
    const text = texts[key] ?? TEXTS.en[key] ?? key;
    return values
      ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole))
      : text;
  };
}

/** A text of the config: one string for every language, or one per language (English, else the first, when the page's is missing). */
export function localized(text: string | Readonly<Record<string, string>> | undefined, language: Language): string | undefined {
  if (text === undefined || typeof text === 'string') return text;
  return text[language] ?? text.en ?? Object.values(text)[0];
}
