// Models: the registry per provider with prices and capabilities, a refresh from the provider, defaults check.
import { api, el, note } from './app.js';

export async function render(root) {
  const { providers } = await api('/api/providers');
  const select = el('select', { id: 'model-provider', 'aria-label': 'Provider' }, providers.map((p) => el('option', { value: p }, p)));
  const msg = el('span');
  const refresh = el('button', { type: 'button', class: 'secondary', id: 'refresh-models' }, 'Refresh from provider');
  const validate = el('button', { type: 'button', class: 'secondary', id: 'validate-defaults' }, 'Validate defaults');
  const problems = el('div', { id: 'problems' });
  const table = el('tbody');
  const source = el('p', { class: 'muted' });
  root.append(el('h1', {}, 'Models'), el('div', { class: 'row' }, select, refresh, validate, msg), problems, source,
    el('table', { id: 'models' }, el('thead', {}, el('tr', {},
      ['Id', 'Name', 'Context', 'Input $/M', 'Output $/M', 'Capabilities'].map((h) => el('th', {}, h)))), table));
  const load = async (fresh) => {
    const q = new URLSearchParams({ provider: select.value });
    if (fresh) q.set('refresh', '1');
    const { snapshot: s } = await api(`/api/models?${q}`);
    source.textContent = `${s.models.length} models · from ${s.fetched_via}${s.fetched_at ? ` at ${s.fetched_at}` : ''}`
      + (s.metadata && s.metadata.last_error ? ` · last refresh failed: ${s.metadata.last_error}` : '');
    table.replaceChildren(...s.models.map((m) => {
      const caps = Object.entries(m.capabilities || {}).filter(([, v]) => v === true).map(([k]) => k);
      const p = m.prices || {};
      return el('tr', {}, el('td', {}, m.id), el('td', {}, m.name || ''), el('td', {}, m.context_length ?? '—'),
        el('td', {}, p.input ?? '—'), el('td', {}, p.output ?? '—'),
        el('td', {}, caps.map((c) => el('span', { class: 'badge' }, c)), ' '));
    }));
  };
  select.addEventListener('change', () => load(false));
  refresh.addEventListener('click', async () => {
    note(msg, 'refreshing…');
    try { await load(true); note(msg, 'refreshed', 'ok'); } catch (e) { note(msg, e.message, 'error'); }
  });
  validate.addEventListener('click', async () => {
    const { problems: list } = await api('/api/models/validate');
    problems.replaceChildren(list.length
      ? el('ul', { class: 'card' }, list.map((p) => el('li', { class: p.severity === 'error' ? 'error' : 'muted' },
        `${p.severity}: ${p.subject} = ${p.model}: ${p.message}`)))
      : el('p', { class: 'ok card' }, 'Every default model and route target is in the registry.'));
  });
  await load(false);
}
