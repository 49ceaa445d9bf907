// Logs: filters (provider, model, status, key, session, time), keyset paging, a row opens the full request.
import { api, el, fmt } from './app.js';

const FIELDS = [
  ['provider', 'Provider', 'text'], ['model', 'Model', 'text'], ['key', 'Virtual key id', 'text'],
  ['session', 'Session', 'text'], ['since', 'Since (e.g. 1h, 7d)', 'text'], ['until', 'Until (e.g. 10m)', 'text'],
];

export async function render(root) {
  const inputs = Object.fromEntries(FIELDS.map(([name, , type]) => [name, el('input', { name, type, size: 14 })]));
  const status = el('select', { name: 'status' },
    el('option', { value: '' }, 'any'), el('option', { value: 'ok' }, 'ok'), el('option', { value: 'error' }, 'error'));
  const form = el('form', { class: 'row', id: 'log-filters' },
    FIELDS.map(([name, text]) => el('label', {}, text, inputs[name])),
    el('label', {}, 'Status', status),
    el('button', { type: 'submit' }, 'Filter'));
  const table = el('tbody');
  const more = el('button', { type: 'button', class: 'secondary', id: 'next-page' }, 'Next page');
  const info = el('span', { class: 'muted' });
  const detail = el('div', { class: 'detail' });
  root.append(el('h1', {}, 'Logs'), form,
    el('table', { id: 'logs' }, el('thead', {}, el('tr', {},
      ['Time', 'Provider', 'Model', 'Status', 'Latency', 'TTFT', 'Tokens', 'Cost', 'Key'].map((h) => el('th', {}, h)))), table),
    el('div', { class: 'pager' }, more, info), detail);

  let next = null;
  let shown = 0;
  const query = (before) => {
    const q = new URLSearchParams({ limit: '50' });
    for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) q.set(name, input.value.trim());
    if (status.value) q.set('status', status.value);
    if (before) q.set('before', before);
    return q;
  };
  const load = async (before) => {
    const data = await api(`/api/logs?${query(before)}`);
    if (!before) { table.replaceChildren(); shown = 0; }
    for (const row of data.logs) table.append(line(row, detail));
    shown += data.logs.length;
    next = data.next;
    more.disabled = !next;
    info.textContent = shown ? `${shown} shown${next ? '' : ' (end)'}` : 'No matching requests.';
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); detail.replaceChildren(); load(null); });
  more.addEventListener('click', () => next && load(next));
  await load(null);
}

function line(r, detail) {
  const tr = el('tr', { class: 'clickable', 'data-id': r.id, tabindex: 0 },
    el('td', {}, fmt.time(r.ts_ms)), el('td', {}, r.provider), el('td', {}, r.model),
    el('td', {}, el('span', { class: `badge ${r.status}` }, r.status, r.error_code ? ` · ${r.error_code}` : '')),
    el('td', {}, fmt.ms(r.latency_ms)), el('td', {}, fmt.ms(r.ttft_ms)),
    el('td', {}, fmt.num(r.usage && r.usage.total)), el('td', {}, fmt.usd(r.cost_usd)),
    el('td', {}, r.virtual_key_id || '—'));
  const open = async () => {
    const { log } = await api(`/api/logs/${r.id}`);
    detail.replaceChildren(show(log));
    detail.scrollIntoView({ block: 'nearest' });
  };
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
  return tr;
}

function show(log) {
  const u = log.usage || {};
  return el('div', { class: 'card', id: 'log-detail' },
    el('h2', {}, `Request ${log.id} · ${log.provider}/${log.model}`),
    el('p', {}, `${fmt.time(log.ts_ms)} · ${log.route} · `,
      el('span', { class: `badge ${log.status}` }, log.status),
      ` · latency ${fmt.ms(log.latency_ms)} · TTFT ${fmt.ms(log.ttft_ms)} · cost ${fmt.usd(log.cost_usd)}`),
    el('p', {}, `Usage: prompt ${fmt.num(u.prompt)}, completion ${fmt.num(u.completion)}, total ${fmt.num(u.total)}`,
      u.cached_prompt ? `, cached ${fmt.num(u.cached_prompt)}` : '', u.reasoning ? `, reasoning ${fmt.num(u.reasoning)}` : ''),
    log.error_code ? el('p', { class: 'error' }, `Error: ${log.error_code}`) : null,
    el('h3', {}, 'Request'), el('pre', {}, log.request_text || '(not stored)'),
    el('h3', {}, 'Response'), el('pre', {}, log.response_text || '(not stored)'),
    log.metadata ? [el('h3', {}, 'Metadata'), el('pre', {}, JSON.stringify(log.metadata, null, 2))] : null);
}
