"""The ticket page's watch, part of the desk's script (``script`` inserts it).

Every few seconds the open ticket page asks ``/desk/tickets/{id}/state`` (a few indexed
counts) and compares its version with the one it was rendered with. When the ticket
changed (a customer's message, a new owner, a reply's delivery, a note, a clock):

- nothing typed and not sent: the page reloads by itself and says why;
- text in any box: a banner says what changed, with a reload that keeps the text (kept in
  ``sessionStorage`` and put back; text whose box is gone is shown to copy);
- the ticket is no longer the agent's to act on: the banner says so with the reason and
  the buttons that would be refused are disabled, before anyone presses Send.

Nothing is asked while the tab is hidden or an action is running; a hidden tab asks at
once when it is shown again.
"""

__all__ = ["LIVE"]

LIVE = r"""
const DRAFTS = 'desk_drafts';
function draftFields() {
  const out = [];
  for (const form of document.querySelectorAll('form[data-url]')) {
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === 'hidden' || el.tagName === 'BUTTON' || el.tagName === 'SELECT') continue;
      out.push({ el: el, key: form.dataset.url + '|' + el.name });
    }
  }
  return out;
}
function unsent() {
  if (draftFields().some((f) => f.el.value.trim() !== '')) return true;
  const saved = document.getElementById('saved-reply');
  return !!(saved && saved.value);
}
function keepDrafts() {
  const fields = {};
  for (const f of draftFields()) if (f.el.value.trim()) fields[f.key] = f.el.value;
  try { sessionStorage.setItem(DRAFTS, JSON.stringify({ path: location.pathname, fields: fields })); } catch (e) {}
}
function restoreDrafts() {
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(DRAFTS) || 'null'); sessionStorage.removeItem(DRAFTS); } catch (e) {}
  if (!kept || kept.path !== location.pathname) return;
  const boxes = new Map(draftFields().map((f) => [f.key, f.el]));
  const lost = [];
  for (const [key, value] of Object.entries(kept.fields || {})) {
    const el = boxes.get(key);
    if (!el) { lost.push(value); continue; }
    el.value = value;
    if (el.form && el.form.id === 'reply-form') count(el.form);
  }
  if (!lost.length) return;
  const b = document.getElementById('changed') || document.getElementById('flash');
  const p = document.createElement('p');
  p.textContent = 'Text you had not sent (its box is not on the page any more); copy it if you need it:';
  b.appendChild(p);
  for (const text of lost) { const pre = document.createElement('pre'); pre.className = 'kept'; pre.textContent = text; b.appendChild(pre); }
  b.hidden = false;
}
function describeChange(box, s) {
  const what = [];
  const more = (Number(s.messages) || 0) - (Number(box.dataset.messages) || 0);
  if (more > 0) what.push(more === 1 ? 'a new message from the customer' : more + ' new messages from the customer');
  if ((s.owner_id || '') !== box.dataset.owner) what.push(s.owner_id ? 'new owner: ' + s.owner_name : 'nobody owns it now');
  if (s.status !== box.dataset.status) what.push('it is ' + s.status + ' now');
  if (!what.length) what.push('a reply, a note or a clock changed');
  return what.join('; ');
}
const GUARDED = '#reply-form button, #work button, #group-form button, .review button';
function showChanged(what, refusal) {
  const b = document.getElementById('changed');
  b.replaceChildren();
  const p = document.createElement('p'); p.className = 'what';
  p.textContent = 'This ticket changed (' + what + '). Your unsent text is still here.';
  b.appendChild(p);
  if (refusal) {
    const q = document.createElement('p'); q.className = 'lost'; q.id = 'no-longer-yours';
    q.textContent = 'It is no longer yours to act on: ' + refusal + '. The desk would refuse what you send from this page.';
    b.appendChild(q);
  }
  for (const btn of document.querySelectorAll(GUARDED)) {
    if (refusal) { btn.disabled = true; btn.dataset.lost = '1'; btn.title = refusal; }
    else if (btn.dataset.lost) { btn.disabled = false; delete btn.dataset.lost; btn.title = ''; }
  }
  const again = document.createElement('button'); again.type = 'button'; again.id = 'reload-kept';
  again.textContent = 'Reload (keeps your text)';
  again.addEventListener('click', () => { keepDrafts(); location.reload(); });
  b.appendChild(again);
  b.hidden = false;
}
function watchTicket(box) {
  const every = Math.max(1, Number(box.dataset.every) || 5) * 1000;
  let stopped = false;
  function leave(to) { stopped = true; if (to) location.href = to; else location.reload(); }
  async function tick() {
    if (stopped || document.hidden || inflight) return;
    const now = cookieToken();
    if (now !== pageToken) { // signed out, or someone else signed in, in another tab
      if (unsent()) { showChanged('you were signed out or another agent signed in, in another tab', 'this page is not signed in as you any more'); return; }
      if (now) flashNext('Someone else signed in on this browser (another tab). This page now shows who is signed in.', false);
      leave(now ? '' : signinUrl()); return;
    }
    let r;
    try { r = await fetch(box.dataset.url, { credentials: 'same-origin', cache: 'no-store' }); } catch (e) { return; }
    if (r.status === 401 && !unsent()) { leave(signinUrl()); return; }
    if (!r.ok) return;
    let s;
    try { s = await r.json(); } catch (e) { return; }
    if (s.version === box.dataset.version || inflight) return;
    const what = describeChange(box, s);
    if (!unsent()) {
      flashNext('This ticket changed (' + what + '); the page shows it now.', true);
      leave(''); return;
    }
    // the status line says the ticket as it is now, marked as changed
    for (const [id, now] of [['owner', s.owner_name || 'unowned'], ['status', s.status]]) {
      const el = document.getElementById(id);
      if (el && el.textContent !== now) { el.textContent = now; el.classList.add('changed'); }
    }
    showChanged(what, box.dataset.mayAct && !s.may_act ? s.refusal : '');
  }
  setInterval(tick, every);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(); });
}
"""
