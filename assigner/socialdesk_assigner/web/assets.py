"""The desk's stylesheet and script, served inline-free as two small static assets."""

CSS = """
:root { --ink:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --accent:#2155cd;
        --warn:#b54708; --bad:#b42318; --ok:#067647; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:#111827; color:#fff; }
header a { color:#cbd5e1; text-decoration:none; } header a:hover { color:#fff; }
header .who { margin-left:auto; display:flex; gap:.6rem; align-items:center; }
main { padding:1rem 1.2rem; max-width:1400px; }
h1 { font-size:1.25rem; margin:.2rem 0 1rem; } h2 { font-size:1rem; margin:1.2rem 0 .5rem; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f2f4f7; font-weight:600; font-size:.85rem; color:var(--muted); }
tr:hover td { background:#f9fafb; }
a { color:var(--accent); }
.pill { display:inline-block; padding:.05rem .45rem; border-radius:999px; font-size:.8rem; background:#eef2ff; }
.p-critical { background:#fee4e2; color:var(--bad); } .p-high { background:#fef0c7; color:var(--warn); }
.s-breached { color:var(--bad); font-weight:600; } .s-warned { color:var(--warn); font-weight:600; }
.grid { display:grid; grid-template-columns: 2fr 1fr; gap:1rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; margin-bottom:1rem; }
.msg { padding:.55rem .75rem; border-radius:8px; margin:.45rem 0; max-width:85%; }
.msg.customer { background:#f2f4f7; } .msg.reply { background:#e0eaff; margin-left:auto; }
.msg .meta { font-size:.78rem; color:var(--muted); }
.msg.deleted .text { text-decoration: line-through; color:var(--muted); }
.note { background:#fffaeb; border-left:3px solid #fdb022; padding:.4rem .6rem; margin:.35rem 0; }
form.action { display:flex; flex-wrap:wrap; gap:.4rem; align-items:flex-start; margin:.4rem 0; }
textarea, input, select { font:inherit; padding:.35rem .5rem; border:1px solid #d0d5dd; border-radius:6px; }
textarea { width:100%; min-height:4.5rem; }
button { font:inherit; padding:.35rem .8rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
#flash { min-height:1.4rem; } .flash-ok { color:var(--ok); } .flash-bad { color:var(--bad); }
.muted { color:var(--muted); } .kpis { display:flex; gap:1rem; flex-wrap:wrap; }
.kpi { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.6rem 1rem; min-width:9rem; }
.kpi b { display:block; font-size:1.4rem; }
.signin { max-width:26rem; margin:4rem auto; }
"""

JS = r"""
const desk = {
  token() { return sessionStorage.getItem('desk_token') || (document.cookie.match(/(?:^|; )desk_token=([^;]*)/) || [])[1] || ''; },
  flash(text, ok) { const f = document.getElementById('flash'); if (f) { f.textContent = text; f.className = ok ? 'flash-ok' : 'flash-bad'; } },
  async call(method, url, body) {
    const headers = { 'Authorization': 'Bearer ' + decodeURIComponent(desk.token()), 'Content-Type': 'application/json' };
    if (method !== 'GET') headers['Idempotency-Key'] = crypto.randomUUID();
    const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {}; try { data = await r.json(); } catch (e) {}
    if (!r.ok) throw new Error(typeof data.detail === 'string' ? data.detail : JSON.stringify(data.detail || r.status));
    return data;
  },
};
function formBody(form) {
  const out = {}; const placeholders = {};
  for (const el of form.elements) {
    if (!el.name || el.value === '') continue;
    if (el.name.startsWith('ph_')) { placeholders[el.name.slice(3)] = el.value; continue; }
    out[el.name] = el.type === 'datetime-local' ? new Date(el.value).toISOString() : el.value;
  }
  if (Object.keys(placeholders).length) out.placeholders = placeholders;
  return out;
}
document.addEventListener('submit', async (ev) => {
  const form = ev.target;
  if (form.id === 'signin') {
    ev.preventDefault();
    const token = form.elements.token.value.trim();
    sessionStorage.setItem('desk_token', token);
    document.cookie = 'desk_token=' + encodeURIComponent(token) + '; path=/desk; SameSite=Strict';
    location.href = '/desk/queue';
    return;
  }
  if (!form.dataset.url) return;
  ev.preventDefault();
  try {
    await desk.call(form.dataset.method || 'POST', form.dataset.url, formBody(form));
    desk.flash((form.dataset.done || 'Done') + '.', true);
    setTimeout(() => location.reload(), 400);
  } catch (e) { desk.flash(e.message, false); }
});
document.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-url]');
  if (!b) return;
  ev.preventDefault();
  const body = b.dataset.body ? JSON.parse(b.dataset.body) : {};
  if (b.dataset.ask) { const reason = prompt(b.dataset.ask); if (!reason) return; body.reason = reason; }
  try { await desk.call(b.dataset.method || 'POST', b.dataset.url, body); desk.flash((b.dataset.done || 'Done') + '.', true); setTimeout(() => location.reload(), 400); }
  catch (e) { desk.flash(e.message, false); }
});
document.addEventListener('change', (ev) => {
  const sel = ev.target;
  if (sel.id === 'saved-reply' && sel.value) {
    const opt = sel.selectedOptions[0];
    const area = document.querySelector('#reply-form textarea[name=text]');
    if (area) area.value = '';
    document.getElementById('reply-preview').textContent = opt.dataset.text || '';
  }
  if (sel.id === 'presence') {
    desk.call('PUT', '/v1/agents/me/status', { status: sel.value })
      .then((r) => desk.flash('You are ' + r.status + (r.tickets_moved ? '; ' + r.tickets_moved + ' tickets moved' : ''), true))
      .catch((e) => desk.flash(e.message, false));
  }
});
function live(selector, seconds) {
  const target = document.querySelector(selector);
  if (!target) return;
  setInterval(async () => {
    const url = new URL(location.href); url.searchParams.set('fragment', '1');
    const r = await fetch(url, { credentials: 'same-origin' });
    if (r.ok) { target.innerHTML = await r.text(); const s = document.getElementById('updated'); if (s) s.textContent = new Date().toLocaleTimeString(); }
  }, seconds * 1000);
}
"""
