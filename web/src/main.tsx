/**
 * The authpipe console: a hash-routed single page on the management listener. Each page is
 * one file in pages/; all data comes from the admin API with the signed-in admin's token.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { readNonce } from './nonce';
import { finishSignIn, onSessionChange, resumeSignIn, session, signOut, startSignIn, adoptToken, type Settings } from './auth';
import { settings as loadSettings } from './api';
import { Alert } from './ui';
import { Overview } from './pages/overview';
import { PipeList, PipeView } from './pages/pipes';
import { PipeEditor } from './pages/editor';
import { TryIt } from './pages/try-it';
import { AccessGroups } from './pages/access-groups';
import { DirectoryPage } from './pages/directory';
import { DirectoryRecord } from './pages/directory-record';
import { AuditPage } from './pages/audit';
import { KeysPage } from './pages/keys';
import { PoolEditor, PoolsPage } from './pages/pools';
import { TenantsPage } from './pages/tenants';

const PAGES: { hash: string; title: string }[] = [
  { hash: '#/overview', title: 'Overview' },
  { hash: '#/pipes', title: 'Pipes' },
  { hash: '#/try', title: 'Try it' },
  { hash: '#/access-groups', title: 'Access groups' },
  { hash: '#/directory', title: 'Directory' },
  { hash: '#/pools', title: 'Pools' },
  { hash: '#/keys', title: 'Keys' },
  { hash: '#/tenants', title: 'Tenants' },
  { hash: '#/audit', title: 'Audit' },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/overview');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/overview');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  const [path, query] = hash.slice(1).split('?');
  const parts = (path ?? '').split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query ?? '');
  switch (parts[0]) {
    case 'pipes':
      return parts[1] ? <PipeView key={parts[1]} id={parts[1]} /> : <PipeList />;
    case 'edit':
      return <PipeEditor key={parts[1]} id={parts[1] as string} />;
    case 'try':
      return <TryIt operation={params.get('operation') ?? ''} />;
    case 'access-groups':
      return <AccessGroups key={parts[1] ?? ''} id={parts[1]} />;
    case 'directory':
      return parts[2] ? (
        <DirectoryRecord key={`${parts[1]}/${parts[2]}`} kind={parts[1] as 'tills' | 'clients' | 'users'} id={parts[2]} />
      ) : (
        <DirectoryPage kind={(parts[1] as 'tills' | 'clients' | 'users') ?? 'tills'} />
      );
    case 'audit':
      return <AuditPage />;
    case 'pools':
      return parts[1] ? <PoolEditor key={parts[1]} id={parts[1]} /> : <PoolsPage />;
    case 'keys':
      return <KeysPage />;
    case 'tenants':
      return <TenantsPage />;
    default:
      return <Overview />;
  }
}

function SignIn({ settings, error }: { settings: Settings; error: string | null }) {
  const [tenant, setTenant] = useState(settings.tenants[0] ?? '');
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(error);
  return (
    <main id="main" class="signin">
      <h1>authpipe console</h1>
      {problem && <Alert kind="error">{problem}</Alert>}
      <label for="tenant">Tenant</label>
      <select id="tenant" value={tenant} onChange={(e) => setTenant((e.target as HTMLSelectElement).value)}>
        {settings.tenants.map((t) => (
          <option value={t}>{t}</option>
        ))}
      </select>
      {settings.oidc?.issuers[tenant] && (
        <p>
          <button type="button" class="primary" onClick={() => startSignIn(settings, tenant).catch((e: Error) => setProblem(e.message))}>
            Sign in with {tenant}
          </button>
        </p>
      )}
      <details open={!settings.oidc?.issuers[tenant]}>
        <summary>Use an access token</summary>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            try {
              adoptToken(token, tenant);
            } catch (err) {
              setProblem(`That is not an access token (${(err as Error).message}).`);
            }
          }}
        >
          <label for="token">Bearer access token of an Admin-group subject</label>
          <textarea
            id="token"
            rows={4}
            value={token}
            onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
            autocomplete="off"
            spellcheck={false}
          />
          <button type="submit">Use this token</button>
        </form>
      </details>
    </main>
  );
}

function App({ settings, error }: { settings: Settings; error: string | null }) {
  const [, refresh] = useState(0);
  const hash = useHash();
  useEffect(() => onSessionChange(() => refresh((n) => n + 1)), []);
  const s = session();
  if (!s) return <SignIn settings={settings} error={error} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">authpipe console</span>
        <span class="who">
          {s.subject} · tenant <strong>{s.tenant}</strong>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map((p) => (
              <li>
                <a
                  href={p.hash}
                  aria-current={hash.startsWith(p.hash) || (p.hash === '#/pipes' && hash.startsWith('#/edit')) ? 'page' : undefined}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <Page hash={hash} />
        </main>
      </div>
    </>
  );
}

async function start(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  readNonce();
  const settings = await loadSettings();
  let error: string | null = null;
  try {
    const back = await finishSignIn(settings);
    if (back) location.hash = back;
    // A reload of a signed-in tab: renew from the issuer's session (the page is left, nothing to render).
    else if (await resumeSignIn(settings)) return;
  } catch (err) {
    error = (err as Error).message;
  }
  root.textContent = '';
  render(<App settings={settings} error={error} />, root);
}

void start();
