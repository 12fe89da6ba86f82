"""The desk's script, served as ``/desk/assets/desk.js`` (no build step, no inline script).

- Who acts is who is shown: the session cookie is HttpOnly (the script never sees it or
  the agent's token); every API call and live refresh names the agent the page was rendered
  for (``#whoami``'s ``data-agent``, sent as ``X-Desk-Session-Agent``). The desk answers 401
  once the session ended (signed out here or in another tab, expired: the page goes to sign
  in, keeping unsent text for that agent) and 409 with ``X-Desk-Session: other-agent`` once
  another tab signed in as someone else (nothing was done: the page reloads as who is signed
  in now, or, with unsent text, keeps it and says so, with a way to sign in again).
- One ``Idempotency-Key`` per submission: kept while the same content is retried, new when
  the content changes or after success; the button is disabled while its request runs.
- What happened is said after the reload (a flash kept in ``sessionStorage``), and a
  refusal is shown next to the button that caused it as well as at the top.
- Times are shown in the browser's zone, labelled; the follow-up picker is in that zone too.
- A form may fix its key (``data-key``: one survey per ticket) or send none
  (``data-keyless``: the group answer, which the desk makes idempotent by its content), and
  may ask first (``data-confirm``). The group answer says what happened to each ticket.
- The ticket page notices changes by itself (``script_live``).
"""

from socialdesk_assigner.web.script_live import LIVE

__all__ = ["JS"]

_CORE = r"""
(function () {
'use strict';
try { sessionStorage.removeItem('desk_token'); } catch (e) { /* older pages kept a copy of the token */ }
// The agent this page was rendered for (the desk compares it with the session's now).
function pageAgent() { const w = document.getElementById('whoami'); return (w && w.dataset.agent) || ''; }
function pageAgentName() { const w = document.getElementById('whoami'); return w ? w.textContent.split(' · ')[0] : ''; }
function sessionHeaders() { const a = pageAgent(); return a ? { 'X-Desk-Session-Agent': a } : {}; }
// The desk's answer when the session is another agent's than this page's (another tab).
function otherAgent(r) { return r.status === 409 && r.headers.get('X-Desk-Session') === 'other-agent'; }
const NOW_SHOWN = ' This page now shows who is signed in.';
const KEPT_HERE = ' Your unsent text is kept on this page: sign in as yourself again to send it.';

class Gone extends Error {}
const busy = new WeakSet();
let inflight = 0; // actions running: the ticket page does not reload under them

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https; this does not
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}
// items: [{ticket, kind, text}], one line per ticket (the group answer)
function flash(text, ok, items) {
  const f = document.getElementById('flash');
  if (!f) return;
  f.textContent = text; f.className = ok ? 'flash-ok' : 'flash-bad';
  if (!items || !items.length) return;
  const list = document.createElement('ul'); list.id = 'flash-items';
  for (const it of items) {
    const li = document.createElement('li'); li.className = 'r-' + it.kind;
    if (it.ticket) {
      const a = document.createElement('a'); a.href = '/desk/tickets/' + it.ticket; a.className = 'mono';
      a.textContent = String(it.ticket).slice(0, 8); li.append(a, ': ');
    }
    li.append(it.text); list.appendChild(li);
  }
  f.appendChild(list);
}
// a flash for the next page at ``path`` (this one, reloaded, by default)
function flashNext(text, ok, items, path) {
  try { sessionStorage.setItem('desk_flash', JSON.stringify({ text: text, ok: ok, items: items || null, path: path || location.pathname })); } catch (e) {}
}
function showKeptFlash() {
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem('desk_flash') || 'null'); } catch (e) {}
  if (!kept || kept.path !== location.pathname) return; // another page's: left for it
  try { sessionStorage.removeItem('desk_flash'); } catch (e) {}
  flash(kept.text, kept.ok, kept.items);
}
function signinUrl() {
  return '/desk?lost=1&next=' + encodeURIComponent(location.pathname + location.search);
}
// Signed out: to sign in, keeping unsent text (and its key) for this page's return.
function toSignin() {
  if (unsent()) {
    keepDrafts();
    flashNext('Your unsent text is kept: it is back on the page once you sign in again as ' + pageAgentName() + '.', true, null, '/desk');
  }
  location.href = signinUrl();
}
function detail(data, status) {
  const d = data && data.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((x) => (x.loc ? x.loc[x.loc.length - 1] + ': ' : '') + x.msg).join('; ');
  return 'The desk refused it (HTTP ' + status + ').';
}
async function call(method, url, body, key) {
  const headers = Object.assign({ 'Content-Type': 'application/json' }, sessionHeaders());
  if (method !== 'GET' && key !== null) headers['Idempotency-Key'] = key || newKey(); // null: keyless
  let r;
  try {
    r = await fetch(url, { method: method, headers: headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error('The desk did not answer. Try again: the same request is never done twice.');
  }
  let data = {};
  try { data = await r.json(); } catch (e) {}
  if (r.status === 401) { toSignin(); throw new Gone('signed out'); }
  if (otherAgent(r)) { // refused, nothing done
    // with typed text, the page stays this agent's and keeps it (a reload would show the
    // other agent's page, without it); else it shows who is signed in now, and says so
    if (unsent() && anotherAgentHere()) throw new Error(detail(data, r.status) + KEPT_HERE);
    flashNext(detail(data, r.status) + NOW_SHOWN, false);
    location.reload();
    throw new Gone('another agent');
  }
  if (!r.ok) throw new Error(detail(data, r.status));
  return data;
}
const STATE = { requested: 'sent', accepted: 'sent', pending_approval: 'waiting for approval' };
// What a group answer did, ticket by ticket: sent, held, answered before (not again), skipped.
function groupOutcome(done, data) {
  const items = []; const n = { sent: 0, held: 0, already: 0, skipped: 0 };
  for (const x of data.replies) {
    if (x.already) {
      n.already++;
      items.push({ ticket: x.ticket_id, kind: 'already', text: 'already had this answer (' + (STATE[x.status] || x.status) + '): not sent again' });
    } else if (x.status === 'pending_approval') {
      n.held++;
      items.push({ ticket: x.ticket_id, kind: 'held', text: 'held for approval by a lead' + (x.reason ? ' (' + x.reason + ')' : '') });
    } else {
      n.sent++; items.push({ ticket: x.ticket_id, kind: 'sent', text: 'sent' });
    }
  }
  for (const x of data.skipped || []) {
    n.skipped++; items.push({ ticket: x.ticket_id, kind: 'skipped', text: 'not answered: ' + x.reason });
  }
  const parts = [];
  if (n.sent) parts.push(n.sent + ' sent');
  if (n.held) parts.push(n.held + ' held for approval by a lead');
  if (n.already) parts.push(n.already + ' already answered, not sent again');
  if (n.skipped) parts.push(n.skipped + ' left to their owners');
  return { text: (done || 'Done') + ': ' + (parts.join(', ') || 'nothing to send') + '.', items: items };
}
function doneMessage(done, data) {
  if (data && data.status === 'pending_approval') {
    return { text: 'Held for approval by a lead' + (data.reason ? ' (' + data.reason + ')' : '') + '; it is sent once approved.' };
  }
  if (data && Array.isArray(data.replies)) return groupOutcome(done, data);
  return { text: (done || 'Done') + '.' };
}
function errorBox(owner) {
  const host = owner.tagName === 'FORM' ? owner : owner.parentElement;
  let box = host.querySelector(':scope > .form-error');
  if (!box) {
    box = document.createElement('p'); box.className = 'form-error'; box.setAttribute('role', 'alert');
    host.appendChild(box);
  }
  return box;
}
function showError(owner, text) { errorBox(owner).textContent = text; flash(text, false); }
function clearError(owner) {
  const host = owner.tagName === 'FORM' ? owner : owner.parentElement;
  const box = host && host.querySelector(':scope > .form-error');
  if (box) box.remove();
}
// The same content again (a retry) keeps its key; new content gets a new one. A form may
// fix its key (data-key) or send none (data-keyless: the desk keys it by its content).
function keyFor(owner, body) {
  if (owner.dataset.keyless) return null;
  if (owner.dataset.key) return owner.dataset.key;
  const content = JSON.stringify(body);
  if (!owner._desk || owner._desk.content !== content) owner._desk = { content: content, key: newKey() };
  return owner._desk.key;
}
async function act(owner, buttons, method, url, body, done) {
  if (busy.has(owner)) return;
  busy.add(owner);
  buttons.forEach((b) => { b.disabled = true; });
  owner.setAttribute('aria-busy', 'true');
  clearError(owner);
  inflight++;
  try {
    const data = await call(method, url, body, keyFor(owner, body));
    owner._desk = null;
    const said = doneMessage(done, data);
    flashNext(said.text, true, said.items);
    if (owner.tagName === 'FORM') owner.reset(); // the browser would restore it on reload
    location.reload(); // still busy: nothing more is sent until the page is back
  } catch (e) {
    if (e instanceof Gone) return;
    inflight--;
    busy.delete(owner);
    buttons.forEach((b) => { b.disabled = !!b.dataset.lost; }); // still off when the banner says why
    owner.removeAttribute('aria-busy');
    showError(owner, e.message);
  }
}
function formBody(form) {
  const out = {}; const placeholders = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const blank = el.value.trim() === '';
    if (blank && el.required) throw new Error((el.getAttribute('aria-label') || el.name) + ' is blank.');
    if (blank) continue;
    if (el.name.startsWith('ph_')) { placeholders[el.name.slice(3)] = el.value; continue; }
    out[el.name] = el.type === 'datetime-local' ? new Date(el.value).toISOString() : el.value;
  }
  if (Object.keys(placeholders).length) out.placeholders = placeholders;
  if (form.id === 'reply-form' && !out.text && !out.saved_reply) throw new Error('Write a reply or choose a saved reply.');
  return out;
}
document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!form.dataset.url) return; // sign in, sign out, filters: ordinary forms
  ev.preventDefault();
  if (busy.has(form)) return;
  let body;
  try { body = formBody(form); } catch (e) { showError(form, e.message); return; }
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  act(form, Array.from(form.querySelectorAll('button')), form.dataset.method || 'POST', form.dataset.url, body, form.dataset.done);
});
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-url]');
  if (!b) return;
  ev.preventDefault();
  if (busy.has(b)) return;
  const body = b.dataset.body ? JSON.parse(b.dataset.body) : {};
  if (b.dataset.ask) {
    const reason = prompt(b.dataset.ask);
    if (!reason || !reason.trim()) return;
    body.reason = reason.trim();
  }
  act(b, [b], b.dataset.method || 'POST', b.dataset.url, body, b.dataset.done);
});
function count(form) {
  const c = document.getElementById('reply-count');
  if (!c || !form) return;
  const limit = Number(c.dataset.limit);
  const area = form.elements.text;
  const preview = document.getElementById('reply-preview');
  const n = Array.from(area.disabled ? preview.textContent : area.value).length; // code points, as the notifier counts
  c.textContent = n + ' / ' + limit + ' (' + c.dataset.by + ')';
  c.classList.toggle('over', n > limit);
  const warn = document.getElementById('reply-over');
  warn.hidden = n <= limit;
  warn.textContent = n > limit ? 'Too long by ' + (n - limit) + ' characters for ' + c.dataset.by + ': shorten it or it will not be sent.' : '';
}
function savedReplyChosen(sel) {
  const form = sel.form; const area = form.elements.text;
  const preview = document.getElementById('reply-preview');
  const previous = sel.dataset.previous || '';
  if (sel.value) {
    if (!previous && area.value.trim()) {
      const title = sel.selectedOptions[0].textContent;
      if (!confirm('Replace what you typed with the saved reply "' + title + '"? Your text will be discarded.')) {
        sel.value = previous; return;
      }
    }
    area.value = ''; area.disabled = true;
    area.placeholder = 'The saved reply above is sent; choose "— saved reply —" to write your own.';
    preview.textContent = sel.selectedOptions[0].dataset.text || ''; preview.hidden = false;
  } else {
    preview.textContent = ''; preview.hidden = true;
    area.disabled = false; area.placeholder = area.dataset.placeholder || '';
  }
  sel.dataset.previous = sel.value;
  count(form);
}
document.addEventListener('input', (ev) => { if (ev.target.closest('#reply-form')) count(ev.target.form); });
document.addEventListener('change', (ev) => {
  const sel = ev.target;
  if (sel.id === 'saved-reply') savedReplyChosen(sel);
  if (sel.id === 'presence') {
    const before = sel.dataset.current || '';
    sel.disabled = true;
    call('PUT', '/desk/v1/agents/me/status', { status: sel.value })
      .then((r) => {
        sel.dataset.current = r.status; sel.disabled = false;
        flash('You are ' + r.status + (r.tickets_moved ? '; ' + r.tickets_moved + ' tickets moved' : '') + '.', true);
      })
      .catch((e) => { if (e instanceof Gone) return; sel.value = before; sel.disabled = false; flash(e.message, false); });
  }
});
function pad(n) { return String(n).padStart(2, '0'); }
function zoneOf(d) {
  try {
    const p = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
    return p ? p.value : '';
  } catch (e) { return ''; }
}
function localTime(d, seconds) {
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' +
    pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : '') + ' ' + zoneOf(d);
}
function localize(root) {
  for (const t of root.querySelectorAll('time[datetime]')) {
    const d = new Date(t.getAttribute('datetime'));
    if (isNaN(d.getTime())) continue;
    if (!t.title) t.title = t.textContent; // the UTC time on hover
    t.textContent = localTime(d, true);
  }
  const zone = (Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time');
  for (const z of root.querySelectorAll('.tz-name')) z.textContent = 'your time, ' + zone;
}
// The queue's rows, every few seconds: one request at a time, none while the tab is hidden
// (at once when it is shown again), less often while the desk does not answer.
function live(target, seconds) {
  let running = false; let stopped = false; let timer = 0; let failures = 0;
  function schedule(ms) { clearTimeout(timer); if (!stopped) timer = setTimeout(run, ms); }
  function leave(to) { stopped = true; clearTimeout(timer); if (to) location.href = to; else location.reload(); }
  async function refresh() {
    const url = new URL(location.href); url.searchParams.set('fragment', '1');
    let r;
    try { r = await fetch(url, { credentials: 'same-origin', redirect: 'manual', cache: 'no-store', headers: sessionHeaders() }); } catch (e) { failures++; return; }
    if (r.status === 401 || r.type === 'opaqueredirect') { leave(signinUrl()); return; }
    if (otherAgent(r)) {
      flashNext('Someone else signed in on this browser (another tab); this is their queue.', false);
      leave(''); return;
    }
    if (!r.ok) { failures++; return; }
    const html = await r.text();
    failures = 0;
    target.innerHTML = html; // the server escaped every value in it
    localize(target);
    const s = document.getElementById('updated');
    if (s) s.textContent = localTime(new Date(), true);
  }
  async function run() {
    if (running || stopped) return;
    if (!document.hidden) {
      running = true;
      try { await refresh(); } finally { running = false; }
    }
    schedule(Math.min(seconds * 1000 * (1 + failures), 60000));
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !running) schedule(0); });
  schedule(seconds * 1000);
}
/*LIVE*/
document.addEventListener('DOMContentLoaded', () => {
  showKeptFlash();
  localize(document);
  const saved = document.getElementById('saved-reply');
  if (saved) saved.value = '';
  markChoices();
  const area = document.querySelector('#reply-form textarea[name=text]');
  if (area) { area.dataset.placeholder = area.placeholder; area.disabled = false; count(area.form); }
  const rows = document.querySelector('[data-live]');
  if (rows) live(rows, Number(rows.dataset.live) || 3);
  restoreDrafts();
  const box = document.getElementById('live');
  if (box) watchTicket(box);
});
})();
"""

JS = _CORE.replace("/*LIVE*/", LIVE)
