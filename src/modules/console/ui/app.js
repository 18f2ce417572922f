// The console's shell: sign-in, the navigation and a hash router (#/alerts, #/models, …).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorBox, getSession, html, setSession } from './lib.js';
import { AlertsPage } from './pages/alerts.js';
import { ModelsPage } from './pages/models.js';
import { DecisionsPage } from './pages/decisions.js';
import { RecommendationsPage } from './pages/recommendations.js';
import { DataPage } from './pages/data.js';

const PAGES = [
  { path: 'alerts', label: 'Alerts', page: AlertsPage },
  { path: 'decisions', label: 'Decisions', page: DecisionsPage },
  { path: 'models', label: 'Models', page: ModelsPage },
  { path: 'recommendations', label: 'Recommendations', page: RecommendationsPage },
  { path: 'data', label: 'Data and access', page: DataPage },
];

function currentPath() {
  const p = location.hash.replace(/^#\/?/, '').split('?')[0];
  return PAGES.some((x) => x.path === p) ? p : 'alerts';
}

function SignIn() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/api/v1/auth/login/', { email: form.get('email'), password: form.get('password') });
      setSession({ access: r.body.access, refresh: r.body.refresh });
      const me = await api('GET', '/api/v1/users/me');
      setSession({ ...getSession(), me: me.body });
    } catch (err) {
      setSession(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="signin"><section class="card">
    <h1>Sign in to Arbiter</h1>
    <form onSubmit=${submit}>
      <label>Email<input name="email" type="email" autocomplete="username" required autofocus /></label>
      <label>Password<input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <${ErrorBox} error=${error} />
    </form>
    <p class="note">Use your Arbiter account. What you see follows the API's access rules. <a href="/docs">API reference</a></p>
  </section></main>`;
}

function App() {
  const [session, setS] = useState(getSession());
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onSession = () => setS(getSession());
    const onHash = () => setPath(currentPath());
    window.addEventListener('arbiter-session', onSession);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('arbiter-session', onSession);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);
  useEffect(() => {
    document.title = `${PAGES.find((p) => p.path === path).label} · Arbiter console`;
  }, [path]);
  if (!session?.access || !session.me) return html`<${SignIn} />`;
  async function signOut() {
    const s = getSession();
    try {
      await api('POST', '/api/v1/auth/logout/', { refresh: s.refresh });
    } catch {
      // the tokens are dropped here either way
    }
    setSession(null);
  }
  const Page = PAGES.find((p) => p.path === path).page;
  const me = session.me;
  return html`<header class="top">
      <a class="brand" href="#/alerts">Arbiter console</a>
      <nav class="main" aria-label="Pages">${PAGES.map((p) => html`<a href=${`#/${p.path}`} aria-current=${p.path === path ? 'page' : undefined}>${p.label}</a>`)}</nav>
      <div class="who"><span>${me.email || me.username || `user ${me.id}`} <span class="pill">${me.role}</span></span><a href="/docs">API reference</a><button class="secondary" onClick=${signOut}>Sign out</button></div>
    </header>
    <main id="main"><${Page} me=${me} key=${path} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
