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
once when it is shown again. One question at a time, later and later while the desk does
not answer, and after three failures in a row the page says its live updates are paused.
A signed-out page with typed text keeps it (and each form's retry key) for sign-in; the
desk says so (401) or that the session is another agent's now (409, ``script``) in its
answer to the question, as it does for an action. Kept text belongs to the agent the page
was rendered for: it comes back on their page only, never on another agent's signed in
since in that tab (who neither sees it nor sends it with its retry key).
"""

__all__ = ["LIVE"]

LIVE = r"""
const DRAFTS = 'desk_drafts';
// Boxes an agent may have typed into or chosen in; a drop-down counts once changed from
// what the page was rendered with (markChoices records it).
function draftFields() {
  const out = [];
  for (const form of document.querySelectorAll('form[data-url]')) {
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === 'hidden' || el.tagName === 'BUTTON') continue;
      out.push({ el: el, key: form.dataset.url + '|' + el.name });
    }
  }
  return out;
}
function markChoices() {
  for (const f of draftFields()) if (f.el.tagName === 'SELECT') f.el.dataset.initial = f.el.value;
}
function typed(el) {
  if (el.tagName === 'SELECT') return el.dataset.initial !== undefined && el.value !== el.dataset.initial;
  return el.value.trim() !== '';
}
function unsent() { return draftFields().some((f) => typed(f.el)); }
// Kept drafts, one per agent (the agent the page was rendered for): another agent signed in
// in this tab never sees them, nor sends them; their own agent gets them back.
function keptDrafts() {
  let all = null;
  try { all = JSON.parse(sessionStorage.getItem(DRAFTS) || 'null'); } catch (e) {}
  return all && typeof all === 'object' && !all.path ? all : {}; // (an older page kept one, of nobody)
}
function storeDrafts(all) {
  try {
    if (Object.keys(all).length) sessionStorage.setItem(DRAFTS, JSON.stringify(all)); else sessionStorage.removeItem(DRAFTS);
  } catch (e) {}
}
// The unsent text, and each form's retry key with the content it was for: after a reload,
// sending the same content again is the same request (never a second reply).
function keepDrafts() {
  const fields = {}; const keys = {};
  for (const f of draftFields()) if (typed(f.el)) fields[f.key] = f.el.value;
  for (const form of document.querySelectorAll('form[data-url]')) if (form._desk) keys[form.dataset.url] = form._desk;
  const all = keptDrafts();
  all[pageAgent()] = { path: location.pathname, fields: fields, keys: keys };
  storeDrafts(all);
}
function restoreDrafts() {
  const all = keptDrafts(); const agent = pageAgent();
  const kept = agent ? all[agent] : null;
  if (!kept || kept.path !== location.pathname) return; // another page's, or another agent's: left for them
  delete all[agent]; storeDrafts(all);
  for (const form of document.querySelectorAll('form[data-url]')) {
    const k = (kept.keys || {})[form.dataset.url];
    if (k && k.content && k.key) form._desk = { content: k.content, key: k.key };
  }
  const boxes = new Map(draftFields().map((f) => [f.key, f.el]));
  const lost = [];
  for (const [key, value] of Object.entries(kept.fields || {})) {
    const el = boxes.get(key);
    if (el && el.tagName === 'SELECT') {
      if (!Array.from(el.options).some((o) => o.value === value && !o.disabled)) continue; // gone: nothing to copy
      el.value = value;
      if (el.id === 'saved-reply') savedReplyChosen(el);
      continue;
    }
    if (!el || el.disabled) { lost.push(value); continue; }
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
// Why the banner's button signs in again rather than reloads: this page's session ended, or
// it is another agent's now (a reload would show their page, without this text).
const AGAIN = {
  'signed-out': 'Sign in again (keeps your text)',
  'other-agent': 'Sign in as yourself again (keeps your text)',
};
// The banner, rebuilt only when what it says changes (a screen reader reads it again then).
function showChanged(what, refusal, again) {
  const b = document.getElementById('changed');
  if (!b) return false;
  const said = JSON.stringify([what, refusal || '', again || '']);
  if (!b.hidden && b.dataset.said === said) return true;
  b.dataset.said = said;
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
  const button = document.createElement('button'); button.type = 'button'; button.id = 'reload-kept';
  button.textContent = AGAIN[again] || 'Reload (keeps your text)';
  button.addEventListener('click', () => { if (AGAIN[again]) { toSignin(); return; } keepDrafts(); location.reload(); });
  b.appendChild(button);
  b.hidden = false;
  return true;
}
// Another agent signed in, in another tab, while text is typed here: the page stays this
// agent's with the text, what would be refused disabled (the action's 409 and the watch's).
function anotherAgentHere() {
  return showChanged('another agent signed in, in another tab', 'this page is not signed in as you any more', 'other-agent');
}
// Said under the status line while the desk does not answer the page's questions.
function livePaused(box, paused, seconds) {
  let note = document.getElementById('live-paused');
  if (!paused) { if (note) note.remove(); return; }
  if (!note) {
    note = document.createElement('p'); note.id = 'live-paused'; note.className = 'live-paused'; note.setAttribute('role', 'status');
    box.after(note);
  }
  const text = 'Live updates paused: the desk did not answer; trying again every ' + seconds + ' s. Reload to see the latest.';
  if (note.textContent !== text) note.textContent = text;
}
const PAUSED_AFTER = 3; // failed questions in a row before the page says it stopped noticing
// One question at a time: the next is asked a few seconds after the answer, later and later
// (up to a minute) while the desk does not answer.
function watchTicket(box) {
  const every = Math.max(1, Number(box.dataset.every) || 5) * 1000;
  let stopped = false; let running = false; let timer = 0; let failures = 0;
  function leave(to) { stopped = true; clearTimeout(timer); if (to) location.href = to; else location.reload(); }
  function failed() { failures++; if (failures >= PAUSED_AFTER) livePaused(box, true, Math.round(wait() / 1000)); }
  function wait() { return Math.min(every * (1 + failures), 60000); }
  async function tick() {
    if (stopped || document.hidden || inflight) return;
    let r;
    try { r = await fetch(box.dataset.url, { credentials: 'same-origin', cache: 'no-store', headers: sessionHeaders() }); } catch (e) { failed(); return; }
    if (otherAgent(r)) { // someone else signed in, in another tab: Send would be refused
      if (unsent()) { anotherAgentHere(); return; }
      flashNext('Someone else signed in on this browser (another tab).' + NOW_SHOWN, false);
      leave(''); return;
    }
    if (r.status === 401) { // signed out here or in another tab, or the session expired
      if (!unsent()) { leave(signinUrl()); return; }
      keepDrafts(); // the session is no longer the desk's: Send would be refused too
      showChanged('you are signed out', 'you are not signed in any more', 'signed-out');
      return;
    }
    if (!r.ok) { failed(); return; }
    let s;
    try { s = await r.json(); } catch (e) { failed(); return; }
    if (failures) { failures = 0; livePaused(box, false); }
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
  function schedule(ms) { clearTimeout(timer); if (!stopped) timer = setTimeout(run, ms); }
  async function run() {
    if (running || stopped) return;
    running = true;
    try { await tick(); } finally { running = false; schedule(wait()); }
  }
  schedule(every);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !running) schedule(0); });
}
"""
