// Data and access: seed 002's resources browsable with their filters (a user sees their own rows, as
// the API decides), users and roles (admins), and API keys (admins; a new key is shown once).
import { useState } from 'preact/hooks';
import { api, ErrorBox, fmt, html, Loading, qs, Table, useApi } from '../lib.js';

// The filters each seed 002 collection accepts (see src/modules/resources/resources.schemas.ts).
const RESOURCES = {
  users: { path: '/users', filters: [] },
  sessions: { path: '/sessions', filters: ['user_id', 'device_type', 'device_os', 'region', 'app_version'] },
  recordings: { path: '/recordings', filters: ['user_id', 'recording_type'] },
  algos: { path: '/algos', filters: ['recording_type', 'version'] },
  events: { path: '/events', filters: ['user_id', 'session_id', 'event_type', 'event_source'] },
};
const SIZE = 20;

function Resources() {
  const [kind, setKind] = useState('sessions');
  const [filters, setFilters] = useState({});
  const [page, setPage] = useState(1);
  const spec = RESOURCES[kind];
  const path = `${spec.path}${qs({ ...filters, page, size: SIZE })}`;
  const list = useApi(path, [path]);
  function apply(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setFilters(Object.fromEntries(spec.filters.map((k) => [k, f.get(k).trim()]).filter(([, v]) => v)));
    setPage(1);
  }
  const rows = list.data || [];
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].map((key) => ({ key, label: key, render: (r) => (typeof r[key] === 'object' && r[key] !== null ? html`<code>${fmt.json(r[key]).slice(0, 120)}</code>` : r[key] ?? '–') }));
  const pages = list.total !== null ? Math.max(1, Math.ceil(list.total / SIZE)) : null;
  return html`<section class="card" aria-labelledby="res-h"><h2 id="res-h">Seed 002 resources</h2>
    <div class="row"><label>Collection<select value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setFilters({}); setPage(1); }}>${Object.keys(RESOURCES).map((k) => html`<option value=${k}>${RESOURCES[k].path}</option>`)}</select></label></div>
    ${spec.filters.length > 0 && html`<form class="inline" onSubmit=${apply} key=${kind}>${spec.filters.map((k) => html`<label>${k}<input name=${k} size="12" defaultValue=${filters[k] ?? ''} /></label>`)}<button type="submit">Filter</button></form>`}
    <${ErrorBox} error=${list.error} /><${Loading} when=${list.loading && !list.data} />
    <${Table} rows=${rows} columns=${columns} empty="No rows match." caption=${list.total !== null ? `${list.total} rows` : ''} />
    <div class="row"><button class="secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button><span class="note">page ${page}${pages ? ` of ${pages}` : ''}</span><button class="secondary" disabled=${pages !== null ? page >= pages : rows.length < SIZE} onClick=${() => setPage(page + 1)}>Next</button></div>
  </section>`;
}

function Users({ me }) {
  const [page, setPage] = useState(1);
  const list = useApi(`/api/v1/users${qs({ page, size: SIZE })}`, [page]);
  const [error, setError] = useState(null);
  async function setRole(u, role) {
    setError(null);
    try {
      await api('PATCH', `/api/v1/users/${u.id}`, { role });
      list.reload();
    } catch (err) {
      setError(err);
      list.reload();
    }
  }
  return html`<section class="card" aria-labelledby="users-h"><h2 id="users-h">Users and roles</h2>
    <${ErrorBox} error=${list.error || error} />
    <${Table} rows=${list.data} caption=${list.total !== null ? `${list.total} users` : ''} columns=${[
      { key: 'id', label: 'Id', num: true },
      { key: 'user_id', label: 'user_id' },
      { label: 'Email', render: (u) => u.email ?? '–' },
      { label: 'Name', render: (u) => [u.first_name, u.last_name].filter(Boolean).join(' ') || '–' },
      { key: 'created_via', label: 'Created via' },
      { label: 'Active', render: (u) => (u.is_active ? 'yes' : 'no') },
      { label: 'Role', render: (u) => (u.id === me.id ? u.role : html`<select aria-label=${`role of user ${u.id}`} value=${u.role} onChange=${(e) => setRole(u, e.currentTarget.value)}><option>user</option><option>admin</option></select>`) },
    ]} />
    <div class="row"><button class="secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button><span class="note">page ${page}</span><button class="secondary" disabled=${(list.data || []).length < SIZE} onClick=${() => setPage(page + 1)}>Next</button></div>
  </section>`;
}

function ApiKeys() {
  const keys = useApi('/api/v1/api-keys');
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  async function create(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setError(null);
    setCreated(null);
    try {
      const days = f.get('days').trim();
      const r = await api('POST', '/api/v1/api-keys', { name: f.get('name'), scopes: [f.get('scope')], ...(days ? { expires_in_days: Number(days) } : {}) });
      setCreated(r.body);
      form.reset();
      keys.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(k) {
    setError(null);
    try {
      await api('DELETE', `/api/v1/api-keys/${k.id}`);
      keys.reload();
    } catch (err) {
      setError(err);
    }
  }
  return html`<section class="card" aria-labelledby="keys-h"><h2 id="keys-h">API keys</h2>
    <form class="inline" onSubmit=${create} aria-label="Create an API key">
      <label>Name<input name="name" required maxlength="100" /></label>
      <label>Scope<select name="scope"><option>user</option><option>service</option><option>admin</option></select></label>
      <label>Expires in days (empty = never)<input name="days" inputmode="numeric" size="6" /></label>
      <button type="submit">Create key</button>
    </form>
    ${created && html`<div role="status" data-testid="new-key"><p><strong>Copy this key now: it is not shown again.</strong></p><p class="secret">${created.key}</p></div>`}
    <${ErrorBox} error=${keys.error || error} />
    <${Table} rows=${keys.data} empty="No API keys." columns=${[
      { key: 'id', label: 'Id', num: true },
      { key: 'name', label: 'Name' },
      { label: 'Prefix', render: (k) => html`<code>${k.prefix}…</code>` },
      { label: 'Scopes', render: (k) => k.scopes.join(', ') },
      { key: 'user_id', label: 'User', num: true },
      { label: 'Expires', render: (k) => fmt.time(k.expires_at) },
      { label: 'Last used', render: (k) => fmt.time(k.last_used_at) },
      { label: '', render: (k) => html`<button class="danger" onClick=${() => revoke(k)} aria-label=${`Revoke key ${k.name}`}>Revoke</button>` },
    ]} />
  </section>`;
}

function Me({ me }) {
  return html`<section class="card"><h2>Your account</h2><p>${me.email ?? me.user_id} · role <strong>${me.role}</strong> · user_id <code>${me.user_id}</code></p>
    <p class="note">Users, roles and API keys are managed by admins. The resources below show your own rows.</p></section>`;
}

export function DataPage({ me }) {
  const admin = me.role === 'admin';
  return html`<h1>Data and access</h1>
    ${admin ? html`<${Users} me=${me} /><${ApiKeys} />` : html`<${Me} me=${me} />`}
    <${Resources} />`;
}
