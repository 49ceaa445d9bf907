// Overview: requests/min, error rate, p50/p95 latency and TTFT, tokens and cost per provider, last hour or day.
import { api, el, fmt } from './app.js';
import { lineChart } from './chart.js';

export async function render(root) {
  const select = el('select', { id: 'window', 'aria-label': 'Window' },
    el('option', { value: 'hour' }, 'Last hour'), el('option', { value: 'day' }, 'Last day'));
  const body = el('div');
  root.append(el('h1', {}, 'Overview'), el('div', { class: 'row' }, select), body);
  const load = async () => {
    const { overview: o } = await api(`/api/overview?window=${select.value}`);
    body.replaceChildren(...draw(o).filter(Boolean));
  };
  select.addEventListener('change', load);
  await load();
}

/** Every bucket of the window, the missing ones (no traffic) as zero requests. */
function slots(o) {
  const out = [];
  for (let t = o.since_ms; t < o.until_ms; t += o.bucket_ms) out.push(t);
  return out;
}

function draw(o) {
  const times = slots(o);
  const byTs = new Map(o.buckets.map((b) => [b.ts_ms, b]));
  const minutes = o.bucket_ms / 60000;
  const at = (f, empty = 0) => times.map((t) => [t, byTs.has(t) ? f(byTs.get(t)) : empty]);
  const total = o.buckets.reduce((n, b) => n + b.requests, 0);
  const errors = o.buckets.reduce((n, b) => n + b.errors, 0);
  const providers = [...new Set(o.providers.map((p) => p.provider))].sort();
  const per = (field) => providers.map((name) => {
    const m = new Map(o.providers.filter((p) => p.provider === name).map((p) => [p.ts_ms, p[field]]));
    return { name, points: times.map((t) => [t, m.get(t) || 0]) };
  });
  const tokens = o.providers.reduce((n, p) => n + p.tokens, 0);
  const cost = o.providers.reduce((n, p) => n + p.cost_usd, 0);
  const common = { xMin: o.since_ms, xMax: o.until_ms, xLabel: fmt.clock };
  const stat = (name, value) => el('div', { class: 'card stat' }, el('span', { class: 'muted' }, name), el('b', {}, value));
  return [
    el('div', { class: 'stats' },
      stat('Requests', fmt.num(total)),
      stat('Error rate', total ? `${((100 * errors) / total).toFixed(1)}%` : '—'),
      stat('Tokens', fmt.num(tokens)),
      stat('Cost', fmt.usd(cost))),
    total === 0 ? el('p', { class: 'muted' }, 'No requests in this window yet.') : null,
    el('div', { class: 'grid', id: 'charts' },
      lineChart({ ...common, title: 'Requests / min', series: [{ name: 'requests', points: at((b) => b.requests / minutes) }] }),
      lineChart({ ...common, title: 'Error rate', unit: '%', series: [{ name: 'errors %', points: at((b) => (100 * b.errors) / b.requests) }] }),
      lineChart({ ...common, title: 'Latency', unit: ' ms', series: [
        { name: 'p50', points: at((b) => b.p50_ms, null) }, { name: 'p95', points: at((b) => b.p95_ms, null) }] }),
      lineChart({ ...common, title: 'Time to first token', unit: ' ms', series: [
        { name: 'p50', points: at((b) => b.ttft_p50_ms, null) }, { name: 'p95', points: at((b) => b.ttft_p95_ms, null) }] }),
      lineChart({ ...common, title: 'Tokens per provider', series: per('tokens') }),
      lineChart({ ...common, title: 'Cost per provider (USD)', series: per('cost_usd') })),
  ];
}
