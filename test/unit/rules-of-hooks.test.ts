import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rulesOfHooks from '../../eslint-rules/rules-of-hooks.js';

/** The console's hooks rule (eslint.config.js): hooks at the top of a component or a hook, on every render. */
const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser as never, parserOptions: { ecmaFeatures: { jsx: true } } },
});

tester.run('rules-of-hooks', rulesOfHooks, {
  valid: [
    'function Page() { const [a] = useState(1); const b = useRead("x", {}).data ?? []; useEffect(() => {}, []); return a + b; }',
    'function usePipeIds() { return (useRead("GET /admin/pipes", {}).data?.pipes ?? []).map((p) => p.id); }',
    'const Page = () => { const a = useState(1); if (!a) return null; return a; };',
  ],
  invalid: [
    { code: 'function Page({ on }) { if (on) useState(1); }', errors: [{ message: /conditionally/ }] },
    { code: 'function Page({ on }) { const x = on && useState(2); return x; }', errors: [{ message: /conditionally/ }] },
    { code: 'function Page() { for (const x of [1]) useState(x); }', errors: [{ message: /conditionally or in a loop/ }] },
    { code: 'function Page() { const f = () => useState(4); return f; }', errors: [{ message: /neither a component nor a hook/ }] },
    { code: 'function load() { return useRead("x", {}); }', errors: [{ message: /neither a component nor a hook/ }] },
    { code: 'function Page({ on }) { if (!on) return null; useState(5); }', errors: [{ message: /early return/ }] },
  ],
});
