import type { Rule } from 'eslint';

/** The console's hooks rule (rules-of-hooks.js). */
declare const rule: Rule.RuleModule;
export default rule;
