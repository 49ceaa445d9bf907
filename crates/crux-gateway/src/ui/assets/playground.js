// Playground: pick a provider and model, a system prompt, and chat, streamed through the gateway's own
// `/api/chat/stream` (NDJSON lines: delta, then one final or error).
import { api, el } from './app.js';

export async function render(root) {
  const { details } = await api('/api/providers');
  const provider = el('select', { id: 'pg-provider', 'aria-label': 'Provider' },
    details.map((p) => el('option', { value: p.id }, `${p.display_name}${p.enabled ? '' : ' (no key)'}`)));
  const first = details.find((p) => p.enabled);
  if (first) provider.value = first.id;
  const model = el('input', { id: 'pg-model', list: 'pg-models', size: 28, placeholder: 'model id' });
  const options = el('datalist', { id: 'pg-models' });
  const system = el('textarea', { id: 'pg-system', placeholder: 'System prompt (optional)' });
  const input = el('textarea', { id: 'pg-input', placeholder: 'Message', required: true });
  const send = el('button', { type: 'submit', id: 'pg-send' }, 'Send');
  const clear = el('button', { type: 'button', class: 'secondary' }, 'New chat');
  const chat = el('div', { class: 'chat', id: 'pg-chat' });
  const meta = el('p', { class: 'muted', id: 'pg-meta' });
  const form = el('form', { id: 'pg-form' },
    el('div', { class: 'row' }, el('label', {}, 'Provider', provider), el('label', {}, 'Model', model, options)),
    el('label', {}, 'System prompt', system), chat, el('label', {}, 'Message', input),
    el('div', { class: 'row' }, send, clear), meta);
  root.append(el('h1', {}, 'Playground'), el('div', { class: 'card' }, form));

  const history = [];
  const models = async () => {
    try {
      const { snapshot } = await api(`/api/models?provider=${encodeURIComponent(provider.value)}`);
      options.replaceChildren(...snapshot.models.map((m) => el('option', { value: m.id })));
      model.value = snapshot.models.length ? snapshot.models[0].id : '';
    } catch { options.replaceChildren(); }
  };
  provider.addEventListener('change', models);
  clear.addEventListener('click', () => { history.length = 0; chat.replaceChildren(); meta.textContent = ''; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    history.push({ role: 'user', content: text });
    chat.append(el('div', { class: 'msg user' }, text));
    const out = el('div', { class: 'msg assistant', 'data-streaming': 'true' });
    chat.append(out);
    send.disabled = true;
    try {
      const messages = system.value.trim() ? [{ role: 'system', content: system.value.trim() }, ...history] : [...history];
      const answer = await stream({ provider: provider.value, model: model.value.trim(), messages }, out, meta);
      history.push({ role: 'assistant', content: answer });
    } catch (e) {
      out.classList.add('error');
      out.textContent = e.message;
      history.pop();
    } finally {
      out.removeAttribute('data-streaming');
      send.disabled = false;
    }
  });
  await models();
}

/** Posts the chat and appends each delta to `out` as it arrives; resolves with the whole answer. */
async function stream(body, out, meta) {
  const resp = await api('/api/chat/stream', { method: 'POST', body, raw: true });
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let chunks = 0;
  let tokens = 0;
  const started = performance.now();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const ev = JSON.parse(line);
      if (ev.type === 'delta' && ev.delta) { text += ev.delta; chunks++; out.textContent = text; }
      else if (ev.type === 'error') throw new Error((ev.error && ev.error.message) || 'stream failed');
      else if (ev.type === 'delta' && ev.structured && ev.structured.token_usage) tokens = ev.structured.token_usage.total;
      else if (ev.type === 'final') {
        const m = (ev.structured && ev.structured.metrics) || {};
        meta.textContent = `${chunks} chunks · first token ${m.time_to_first_token_ms ?? '—'} ms · `
          + `${Math.round(performance.now() - started)} ms${tokens ? ` · ${tokens} tokens` : ''}`;
      }
    }
  }
  out.setAttribute('data-chunks', String(chunks));
  return text;
}
