import { existsSync } from 'node:fs';
import { describe } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (no browser download is possible here). */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * `describe` when the system Chromium is installed. Without it the file fails at once under CI
 * (CI installs the package, so it can never pass by skipping), and elsewhere skips with a loud line.
 */
export function describeWithChromium(what: string): typeof describe | typeof describe.skip {
  if (existsSync(CHROMIUM)) return describe;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package`);
  console.warn(`\n\n*** SKIPPING ${what}: ${CHROMIUM} is not installed ***\n`);
  return describe.skip;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** Keeps the page's Content Security Policy violations (Chromium reports them on the console) in `into`. */
export function recordCspViolations(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) into.push(m.text());
  });
}
