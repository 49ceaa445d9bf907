// Crux console: login, the session's CSRF token (kept in memory only), the API helper, DOM helpers and the router.
const pages = {
  overview: () => import('./overview.js'),
  logs: () => import('./logs.js'),
  keys: () => import('./keys.js'),
  models: () => import('./models.js'),
  playground: () => import('./playground.js'),
};

let csrf = null;

/** Calls the gateway with the session cookie; state-changing methods carry the CSRF token. */
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf || '';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const resp = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (resp.status === 401) { showLogin('Your session ended; sign in again.'); throw new Error('not signed in'); }
  if (raw) {
    if (!resp.ok) throw new Error(await errorText(resp));
    return resp;
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok || data.ok === false) throw new Error(messageOf(data) || `HTTP ${resp.status}`);
  return data;
}

function messageOf(data) {
  const e = data && data.error;
  return (e && (e.message || e.code)) || (typeof e === 'string' ? e : '');
}

async function errorText(resp) {
  const data = await resp.json().catch(() => ({}));
  return messageOf(data) || `HTTP ${resp.status}`;
}

/** `el('div', {class: 'x', onclick: f}, child, 'text')`: text children are text nodes, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'value') node.value = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const fmt = {
  time: (ms) => new Date(ms).toLocaleString(),
  clock: (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
  usd: (v) => (v === null || v === undefined ? '—' : `$${v > 0 && v < 0.01 ? Number(v).toPrecision(2) : Number(v).toFixed(v < 1 ? 4 : 2)}`),
  num: (v) => (v === null || v === undefined ? '—' : Number(v).toLocaleString()),
  ms: (v) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`),
};

/** A status line under a form: `note(node, 'Saved', 'ok')`. */
export function note(node, text, kind = 'muted') {
  node.className = kind;
  node.textContent = text;
}

const loginForm = document.getElementById('login');
const nav = document.getElementById('nav');
const logoutButton = document.getElementById('logout');
const page = document.getElementById('page');

function showLogin(message = '') {
  csrf = null;
  nav.hidden = true;
  logoutButton.hidden = true;
  page.replaceChildren();
  loginForm.hidden = false;
  document.getElementById('login-error').textContent = message;
  document.getElementById('login-key').focus();
}

function showApp() {
  loginForm.hidden = true;
  nav.hidden = false;
  logoutButton.hidden = false;
  route();
}

let current = 0;
async function route() {
  if (!csrf) return;
  const name = (location.hash || '#overview').slice(1);
  const load = pages[name] || pages.overview;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === name);
  const token = ++current;
  const mod = await load();
  if (token !== current) return;
  const root = el('div', { 'data-page': name });
  page.replaceChildren(root);
  try {
    await mod.render(root);
  } catch (e) {
    root.append(el('p', { class: 'error', role: 'alert' }, String(e.message || e)));
  }
}

loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('login-key');
  const resp = await fetch('/ui/login', {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: input.value }),
  });
  input.value = '';
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) { document.getElementById('login-error').textContent = messageOf(data) || `HTTP ${resp.status}`; return; }
  csrf = data.csrf;
  showApp();
});

logoutButton.addEventListener('click', async () => {
  await fetch('/ui/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf || '' } });
  showLogin('Signed out.');
});

window.addEventListener('hashchange', route);

(async () => {
  const resp = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
  if (resp.ok) { csrf = (await resp.json()).csrf; showApp(); } else showLogin();
})();
