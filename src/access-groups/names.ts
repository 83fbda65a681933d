/**
 * Group names as people read them. Names are shown in consoles and chosen by admins, so two
 * names that look the same must be the same name: an admin who sees "Admin" must not be
 * looking at a custom group spelt with a Cyrillic А. Three rules:
 * - a name is stored NFKC-normalised (full-width letters, ligatures and compatibility forms
 *   become their plain letters);
 * - invisible and direction-changing characters are refused outright (format characters such
 *   as zero-width spaces and soft hyphens, bidi controls, default-ignorable code points),
 *   through the schema pattern, so the file and the API refuse the same names;
 * - names are unique by *skeleton*: NFKC, then NFD, each character mapped to the Latin letter
 *   it is commonly confused with, then lower-cased.
 *
 * The confusables map is a compact table for the scripts whose letters pass for Latin ones
 * (Cyrillic, Greek, Armenian, a few Latin variants and the digits 0 and 1), taken from the
 * Unicode confusables data (UTS #39) for those characters. No well-kept npm package offers
 * UTS #39 skeletons (the ones that exist carry stale copies of the data or strip rather than
 * map), and group names are short labels in Latin-script consoles, where these are the
 * look-alikes that matter; the whole table is a few hundred bytes and needs no updates.
 */

/** Characters refused in names: format, bidi control, default-ignorable, unassigned, private use. */
export const INVISIBLE_CHARACTERS = '\\p{Cf}\\p{Bidi_Control}\\p{Default_Ignorable_Code_Point}\\p{Cn}\\p{Co}';

const CONFUSABLES: Readonly<Record<string, string>> = Object.freeze({
  // Cyrillic
  А: 'A',
  В: 'B',
  С: 'C',
  Е: 'E',
  Н: 'H',
  І: 'I',
  Ј: 'J',
  К: 'K',
  М: 'M',
  О: 'O',
  Р: 'P',
  Ѕ: 'S',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  Ү: 'Y',
  Ԍ: 'G',
  Ԛ: 'Q',
  Ԝ: 'W',
  Ӏ: 'I',
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  ѕ: 's',
  і: 'i',
  ј: 'j',
  һ: 'h',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  ү: 'y',
  ɡ: 'g',
  ҽ: 'e',
  ԍ: 'g',
  // Greek
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
  Ϲ: 'C',
  Ϳ: 'J',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  ι: 'i',
  υ: 'u',
  γ: 'y',
  ϲ: 'c',
  ϳ: 'j',
  // Armenian
  Օ: 'O',
  Ս: 'U',
  Տ: 'S',
  Լ: 'L',
  օ: 'o',
  ս: 'u',
  ց: 'g',
  հ: 'h',
  ո: 'n',
  զ: 'q',
  ւ: 'l',
  // Latin variants and digits
  ı: 'i',
  ɑ: 'a',
  ɩ: 'i',
  ʟ: 'L',
  ɪ: 'I',
  '1': 'l',
  '|': 'l',
  '0': 'O',
});

/** The name as stored: NFKC. */
export function normalizeGroupName(name: string): string {
  return name.normalize('NFKC');
}

/** What two names that look alike have in common. */
export function nameSkeleton(name: string): string {
  let out = '';
  for (const c of name.normalize('NFKC').normalize('NFD')) out += CONFUSABLES[c] ?? c;
  return out.toLowerCase().normalize('NFD');
}
