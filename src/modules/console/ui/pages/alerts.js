// Alerts (seed 001): the live stream over SSE, filters by code and user, the rule that raised each
// alert, the rules with an editor (a 422 shows inline) and a replay of a draft over stored events.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, authFetch, ErrorBox, fmt, html, Loading, qs, Table, Unavailable, useApi } from '../lib.js';

const BLANK_RULE = { code: 9000, name: 'large withdrawal', kind: 'threshold', event_type: 'withdraw', enabled: true, priority: 100, params: { op: '>', amount: '1000.00' } };

/** Reads an SSE response body: calls onEvent(name, data) per message until aborted. */
export async function readSse(res, onEvent) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

function useLiveAlerts(filter, onAlert) {
  const [status, setStatus] = useState('connecting');
  const cb = useRef(onAlert);
  cb.current = onAlert;
  useEffect(() => {
    const ctl = new AbortController();
    let retry = 500;
    (async () => {
      while (!ctl.signal.aborted) {
        try {
          setStatus('connecting');
          const res = await authFetch(`/api/alerts/stream${qs(filter)}`, { signal: ctl.signal, headers: { accept: 'text/event-stream' } });
          if (!res.ok) {
            const body = await res.json().catch(() => ({}));
            setStatus(`refused: ${body.detail || res.status}`);
            if (res.status === 400 || res.status === 403 || res.status === 404) return;
          } else {
            setStatus('live');
            retry = 500;
            await readSse(res, (name, data) => name === 'alert' && cb.current(JSON.parse(data)));
            if (!ctl.signal.aborted) setStatus('reconnecting');
          }
        } catch {
          if (ctl.signal.aborted) return;
          setStatus('reconnecting');
        }
        await new Promise((r) => setTimeout(r, retry));
        retry = Math.min(retry * 2, 15000);
      }
    })();
    return () => ctl.abort();
  }, [filter.code, filter.user_id]);
  return status;
}

function AlertsFeed({ rules }) {
  const [filter, setFilter] = useState({ code: '', user_id: '' });
  const [live, setLive] = useState([]);
  const list = useApi(`/api/alerts${qs({ ...filter, size: 50 })}`, [filter.code, filter.user_id]);
  const status = useLiveAlerts(filter, (a) => setLive((l) => [{ ...a, _new: true }, ...l].slice(0, 200)));
  useEffect(() => setLive([]), [filter.code, filter.user_id]);
  const seen = new Set(live.map((a) => a.id));
  const rows = [...live, ...(list.data || []).filter((a) => !seen.has(a.id)).sort((a, b) => b.id - a.id)];
  function apply(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setFilter({ code: f.get('code').trim(), user_id: f.get('user_id').trim() });
  }
  const ruleName = (a) => {
    const r = rules.find((x) => x.id === a.rule_id);
    return html`${r ? r.name || `rule ${r.id}` : `rule ${a.rule_id}`} <span class="note">v${a.rule_version}</span>`;
  };
  return html`<section class="card" aria-labelledby="feed-h">
    <h2 id="feed-h">Alerts <span class=${`pill ${status === 'live' ? 'live' : 'off'}`} data-testid="stream-status">${status === 'live' ? 'live' : status}</span></h2>
    <form class="inline" onSubmit=${apply}>
      <label>Code<input name="code" inputmode="numeric" size="8" defaultValue=${filter.code} /></label>
      <label>User id<input name="user_id" inputmode="numeric" size="8" defaultValue=${filter.user_id} /></label>
      <button type="submit">Filter</button>
    </form>
    <${ErrorBox} error=${list.error} /><${Loading} when=${list.loading && !list.data} />
    <${Table} caption=${list.total !== null ? `${list.total} stored alerts match; the latest 50 and every live one are shown` : ''} rowClass=${(a) => (a._new ? 'new' : '')} empty="No alerts match." columns=${[
      { key: 'id', label: 'Alert', num: true },
      { key: 'code', label: 'Code', num: true },
      { key: 'user_id', label: 'User', num: true },
      { label: 'Rule', render: ruleName },
      { label: 'Event', render: (a) => `${a.event.type} ${a.event.amount} at t=${a.event.time}` },
      { label: 'Raised', render: (a) => fmt.time(a.created_at) },
    ]} rows=${rows} />
  </section>`;
}

function RuleEditor({ editing, onSaved, onCancel }) {
  const draftOf = (r) => JSON.stringify(r ? { code: r.code, name: r.name, kind: r.kind, event_type: r.event_type, enabled: r.enabled, priority: r.priority, params: r.params } : BLANK_RULE, null, 2);
  const [text, setText] = useState(draftOf(editing));
  const [error, setError] = useState(null);
  const [replay, setReplay] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setText(draftOf(editing));
    setError(null);
    setReplay(null);
  }, [editing?.id]);
  function parse() {
    try {
      return JSON.parse(text);
    } catch (e) {
      setError({ message: `not JSON: ${e.message}` });
      return null;
    }
  }
  async function run(what) {
    const rule = parse();
    if (!rule) return;
    setBusy(true);
    setError(null);
    try {
      if (what === 'replay') setReplay((await api('POST', '/api/console/rules/replay', { rule })).body);
      else {
        const saved = editing ? await api('PUT', `/api/rules/${editing.id}`, rule) : await api('POST', '/api/rules', rule);
        onSaved(saved.body);
      }
    } catch (err) {
      setError(err);
      if (what === 'replay') setReplay(null);
    } finally {
      setBusy(false);
    }
  }
  return html`<div data-testid="rule-editor">
    <h2>${editing ? `Edit rule ${editing.code} (version ${editing.version})` : 'New rule'}</h2>
    <label>Rule (JSON, the body of ${editing ? 'PUT /api/rules/{id}' : 'POST /api/rules'})
      <textarea rows="10" spellcheck="false" value=${text} onInput=${(e) => setText(e.currentTarget.value)} aria-describedby="rule-error"></textarea></label>
    <div id="rule-error"><${ErrorBox} error=${error} /></div>
    <div class="row">
      <button type="button" class="secondary" disabled=${busy} onClick=${() => run('replay')}>Replay over stored events</button>
      <button type="button" disabled=${busy} onClick=${() => run('save')}>${editing ? 'Save changes' : 'Create rule'}</button>
      ${editing && html`<button type="button" class="secondary" onClick=${onCancel}>New rule instead</button>`}
    </div>
    ${replay && html`<p data-testid="replay-result" aria-live="polite">Over the latest ${replay.events_scanned} stored events${replay.truncated ? ' (older ones not replayed)' : ''}, this draft would have raised <strong>${replay.alerts}</strong> alert${replay.alerts === 1 ? '' : 's'} for ${replay.users_alerted} user${replay.users_alerted === 1 ? '' : 's'}.</p>
      ${replay.examples.length > 0 && html`<${Table} columns=${[{ key: 'event_seq', label: 'Event', num: true }, { key: 'user_id', label: 'User', num: true }, { key: 'type', label: 'Type' }, { key: 'amount', label: 'Amount', num: true }, { key: 'time', label: 'Time', num: true }]} rows=${replay.examples} />`}`}
  </div>`;
}

function Rules({ rules, reload, error, admin }) {
  const [editing, setEditing] = useState(null);
  const [actionError, setActionError] = useState(null);
  async function toggle(r) {
    setActionError(null);
    try {
      await api('PATCH', `/api/rules/${r.id}`, { enabled: !r.enabled });
      reload();
    } catch (err) {
      setActionError(err);
    }
  }
  return html`<section class="card" aria-labelledby="rules-h">
    <h2 id="rules-h">Rules</h2>
    <${ErrorBox} error=${error || actionError} />
    <${Table} empty="No rules." columns=${[
      { key: 'code', label: 'Code', num: true },
      { key: 'name', label: 'Name' },
      { key: 'kind', label: 'Kind' },
      { key: 'event_type', label: 'Event' },
      { label: 'Params', render: (r) => html`<code>${fmt.json(r.params)}</code>` },
      { key: 'priority', label: 'Priority', num: true },
      { key: 'version', label: 'Version', num: true },
      { label: 'Enabled', render: (r) => (admin ? html`<button class="secondary" onClick=${() => toggle(r)} aria-label=${`${r.enabled ? 'Disable' : 'Enable'} rule ${r.code}`}>${r.enabled ? 'on' : 'off'}</button>` : r.enabled ? 'on' : 'off') },
      ...(admin ? [{ label: '', render: (r) => html`<button class="secondary" onClick=${() => setEditing(r)} aria-label=${`Edit rule ${r.code}`}>Edit</button>` }] : []),
    ]} rows=${rules} />
    ${admin ? html`<${RuleEditor} editing=${editing} onCancel=${() => setEditing(null)} onSaved=${(r) => { setEditing(r); reload(); }} />` : html`<p class="note">Only admins change rules.</p>`}
  </section>`;
}

export function AlertsPage({ me }) {
  const rules = useApi('/api/rules');
  const list = useMemo(() => rules.data || [], [rules.data]);
  if (rules.error?.status === 404) return html`<${Unavailable} what="Alerts" />`;
  return html`<h1>Alerts</h1>
    <${AlertsFeed} rules=${list} />
    <${Rules} rules=${list} reload=${rules.reload} error=${rules.error} admin=${me.role === 'admin'} />`;
}
