/** The hosted login's messages: every shipped language complete, and the language chosen from ui_locales, Accept-Language, the default. */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { chooseLanguage, LANGUAGES, translator } from '../../src/oidc/messages.js';

const FOLDER = new URL('../../src/oidc/messages/', import.meta.url);
const read = (language: string) => JSON.parse(readFileSync(new URL(`${language}.json`, FOLDER), 'utf8')) as Record<string, string>;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('hosted login messages', () => {
  it('ships a file for each language and no other', () => {
    expect(readdirSync(FOLDER).sort()).toEqual(LANGUAGES.map((l) => `${l}.json`).sort());
  });

  it.each(LANGUAGES.filter((l) => l !== 'en'))('%s has every key of English, no other, with the same placeholders', (language) => {
    const en = read('en');
    const other = read(language);
    expect(Object.keys(other).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) expect([key, placeholders(other[key] as string)]).toEqual([key, placeholders(text)]);
    for (const text of Object.values(other)) expect(text.trim()).not.toBe('');
  });

  it('follows ui_locales, then Accept-Language by weight, then the default', () => {
    expect(chooseLanguage('fi sv-SE en', 'de', 'en')).toBe('sv');
    expect(chooseLanguage(undefined, 'fr;q=0.9, de-AT;q=0.8, sv;q=0.5', 'en')).toBe('de');
    expect(chooseLanguage('', 'sv;q=0.2, de;q=0.7', 'en')).toBe('de');
    expect(chooseLanguage('fi', 'fr', 'sv')).toBe('sv');
    expect(chooseLanguage(undefined, 'de;q=0, sv', 'en')).toBe('sv');
  });

  it('skips a malformed or unknown tag and falls back cleanly', () => {
    for (const [ui, accept] of [
      ['<script>', '*'],
      ['xx-!!', 'en-'],
      ['sv_SE', ';;;,,,'],
      [['sv'], 'q=1'],
      ['a'.repeat(5000), `${'x,'.repeat(5000)}sv`],
      ['klingon', 'tlh, i-klingon;q=abc'],
    ] as const)
      expect(chooseLanguage(ui, accept, 'de')).toBe('de');
  });

  it('fills placeholders, and reads English for a key a language lacks', () => {
    expect(translator('sv')('wait.minutes', { n: 3 })).toBe('3 minuter');
    expect(translator('de')('no.such.key')).toBe('no.such.key');
  });
});
