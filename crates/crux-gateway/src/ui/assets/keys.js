// Keys: provider keys (set / remove, never shown), virtual keys (create with budget, rpm, models; revoke; spend).
import { api, el, fmt, note } from './app.js';

export async function render(root) {
  const providers = el('tbody');
  const vkeys = el('tbody');
  root.append(el('h1', {}, 'Keys'),
    el('h2', {}, 'Provider keys'),
    el('p', { class: 'muted' }, 'Stored encrypted in the vault; values are never sent back. Keys from the environment win.'),
    el('table', { id: 'provider-keys' }, el('thead', {}, el('tr', {}, ['Variable', 'Key', 'Set', ''].map((h) => el('th', {}, h)))), providers),
    el('h2', {}, 'Virtual keys'),
    createForm(() => loadVirtual(vkeys)),
    el('table', { id: 'virtual-keys' }, el('thead', {}, el('tr', {},
      ['Name', 'Id', 'Prefix', 'Budget', 'Spend', 'RPM', 'Models', 'Status', ''].map((h) => el('th', {}, h)))), vkeys));
  await Promise.all([loadProviders(providers), loadVirtual(vkeys)]);
}

async function loadProviders(tbody) {
  const { keys } = await api('/api/keys');
  tbody.replaceChildren(...Object.entries(keys).sort().map(([env, set]) => {
    const input = el('input', { type: 'password', placeholder: 'new key', autocomplete: 'off', 'aria-label': `${env} value` });
    const msg = el('span');
    const provider = env.replace(/_API_KEY$/, '').toLowerCase();
    const save = el('button', { type: 'button', onclick: async () => {
      if (!input.value.trim()) return;
      try {
        const r = await api('/api/keys', { method: 'POST', body: { keys: { [env]: input.value.trim() } } });
        input.value = '';
        if (!r.stored.length) { note(msg, 'not accepted', 'error'); return; }
        await loadProviders(tbody);
      } catch (e) { note(msg, e.message, 'error'); }
    } }, 'Set');
    const remove = el('button', { type: 'button', class: 'danger', disabled: !set, onclick: async () => {
      try { await api(`/api/keys?provider=${encodeURIComponent(provider)}`, { method: 'DELETE' }); await loadProviders(tbody); }
      catch (e) { note(msg, e.message, 'error'); }
    } }, 'Remove');
    return el('tr', { 'data-env': env }, el('td', {}, env), el('td', {}, set ? '••••••••' : '—'),
      el('td', {}, el('span', { class: `badge ${set ? 'ok' : ''}` }, set ? 'set' : 'not set')),
      el('td', {}, el('div', { class: 'row' }, input, save, remove, msg)));
  }));
}

function createForm(reload) {
  const name = el('input', { name: 'name', required: true, size: 14 });
  const budget = el('input', { name: 'budget', type: 'number', step: '0.01', min: '0', size: 8 });
  const rpm = el('input', { name: 'rpm', type: 'number', min: '1', size: 6 });
  const models = el('input', { name: 'models', placeholder: 'openai/gpt-4o-mini, …', size: 26 });
  const out = el('div');
  const form = el('form', { class: 'row', id: 'create-key' },
    el('label', {}, 'Name', name), el('label', {}, 'Budget (USD)', budget), el('label', {}, 'Requests/min', rpm),
    el('label', {}, 'Models (comma-separated, empty = all)', models), el('button', { type: 'submit' }, 'Create key'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim() };
    if (budget.value) body.budget_usd = Number(budget.value);
    if (rpm.value) body.rpm = Number(rpm.value);
    const list = models.value.split(',').map((m) => m.trim()).filter(Boolean);
    if (list.length) body.models = list;
    try {
      const r = await api('/api/virtual-keys', { method: 'POST', body });
      form.reset();
      out.replaceChildren(el('p', {}, `Created ${r.virtual_key.name}. Copy the key now; it is not shown again: `,
        el('span', { class: 'secret', id: 'new-key' }, r.key)));
      await reload();
    } catch (e) { out.replaceChildren(el('p', { class: 'error' }, e.message)); }
  });
  return el('div', { class: 'card' }, form, out);
}

async function loadVirtual(tbody) {
  const { keys } = await api('/api/virtual-keys');
  tbody.replaceChildren(...keys.map((k) => el('tr', { 'data-name': k.name },
    el('td', {}, k.name), el('td', {}, k.id), el('td', {}, `${k.prefix}…`),
    el('td', {}, k.budget_usd === null ? '—' : fmt.usd(k.budget_usd)), el('td', {}, fmt.usd(k.spend_usd)),
    el('td', {}, k.rpm ?? '—'), el('td', {}, k.models ? k.models.join(', ') : 'all'),
    el('td', {}, el('span', { class: `badge ${k.revoked ? 'error' : 'ok'}` }, k.revoked ? 'revoked' : 'active')),
    el('td', {}, k.revoked ? null : el('button', { type: 'button', class: 'danger', onclick: async () => {
      await api(`/api/virtual-keys?id=${encodeURIComponent(k.id)}`, { method: 'DELETE' });
      await loadVirtual(tbody);
    } }, 'Revoke')))));
}
