"""The desk's stylesheet (its script is in ``script``), served as a small static asset.

Layout rules worth knowing: grid columns are ``minmax(0, …)`` so one long word cannot
widen the page; long text wraps anywhere; every table sits in ``.table-wrap`` and scrolls
inside its own box; under 800 px wide the ticket page is one column."""

__all__ = ["CSS"]

CSS = """
:root { --ink:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --accent:#2155cd;
        --warn:#b54708; --bad:#b42318; --ok:#067647; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:.4rem 1.5rem; align-items:center; padding:.6rem 1.2rem; background:#111827; color:#fff; }
header a { color:#cbd5e1; text-decoration:none; } header a:hover { color:#fff; }
header a.brand { color:#fff; font-weight:700; }
header nav { display:flex; gap:1.2rem; }
header .who { margin-left:auto; display:flex; flex-wrap:wrap; gap:.4rem .8rem; align-items:center; }
header .presence { color:#cbd5e1; font-size:.85rem; }
header form.signout { margin:0; }
button.link { background:none; border:1px solid #475467; color:#fff; padding:.25rem .7rem; }
button.link:hover { border-color:#fff; }
main { padding:1rem 1.2rem; max-width:1400px; }
h1 { font-size:1.25rem; margin:.2rem 0 1rem; overflow-wrap:anywhere; } h2 { font-size:1rem; margin:1.2rem 0 .5rem; }
.table-wrap { max-width:100%; overflow-x:auto; -webkit-overflow-scrolling:touch; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f2f4f7; font-weight:600; font-size:.85rem; color:var(--muted); }
td { overflow-wrap:break-word; }
tr:hover td { background:#f9fafb; }
table.compact td, table.compact th { padding:.2rem .5rem; font-size:.85rem; }
meter { width:5rem; vertical-align:middle; }
time { white-space:nowrap; }
a { color:var(--accent); }
.pill { display:inline-block; padding:.05rem .45rem; border-radius:999px; font-size:.8rem; background:#eef2ff; }
.p-critical { background:#fee4e2; color:var(--bad); } .p-high { background:#fef0c7; color:var(--warn); }
.s-breached { color:var(--bad); font-weight:600; } .s-warned { color:var(--warn); font-weight:600; }
.grid { display:grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap:1rem; }
.grid > * { min-width:0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; margin-bottom:1rem; min-width:0; }
.wrap, .msg .text, .note, .card li, pre { overflow-wrap:anywhere; white-space:pre-wrap; }
.card li { white-space:normal; }
.msg { padding:.55rem .75rem; border-radius:8px; margin:.45rem 0; max-width:85%; }
.msg.customer { background:#f2f4f7; } .msg.reply { background:#e0eaff; margin-left:auto; }
.msg .meta { font-size:.78rem; color:var(--muted); overflow-wrap:anywhere; }
.msg.deleted .text { text-decoration: line-through; color:var(--muted); }
.attachments { margin:.25rem 0 0; padding-left:1.1rem; font-size:.85rem; }
.delivery.d-failed, .delivery.d-rejected { color:var(--bad); } .delivery.d-local { color:var(--warn); }
.delivery.d-sent, .delivery.d-delivered, .delivery.d-read { color:var(--ok); }
.note { background:#fffaeb; border-left:3px solid #fdb022; padding:.4rem .6rem; margin:.35rem 0; }
form.action { display:flex; flex-wrap:wrap; gap:.4rem; align-items:flex-start; margin:.4rem 0; }
textarea, input, select { font:inherit; padding:.35rem .5rem; border:1px solid #d0d5dd; border-radius:6px; max-width:100%; }
textarea { width:100%; min-height:4.5rem; }
textarea:disabled { background:#f2f4f7; }
label.stack { display:flex; flex-direction:column; gap:.1rem; font-size:.8rem; color:var(--muted); }
label.stack input { color:var(--ink); }
#reply-form > input[name^=ph_] { flex:1 1 14rem; }
button { font:inherit; padding:.35rem .8rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
button:disabled { opacity:.55; cursor:progress; }
.preview { width:100%; background:#f2f4f7; border-radius:6px; padding:.4rem .6rem; white-space:pre-wrap; overflow-wrap:anywhere; }
.counter { font-size:.8rem; color:var(--muted); align-self:center; } .counter.over { color:var(--bad); font-weight:600; }
.form-error { width:100%; margin:.1rem 0 0; color:var(--bad); }
#flash { min-height:1.4rem; } .flash-ok { color:var(--ok); } .flash-bad { color:var(--bad); }
.muted { color:var(--muted); } .kpis { display:flex; gap:1rem; flex-wrap:wrap; }
.kpi { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.6rem 1rem; min-width:9rem; }
.kpi b { display:block; font-size:1.4rem; }
.signin { max-width:26rem; margin:4rem auto; } .signin input[name=token] { width:100%; }
.error-page { max-width:40rem; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size:.9em; }
header form.go { display:flex; gap:.3rem; margin:0; }
header form.go input { width:11rem; padding:.2rem .45rem; font-size:.85rem; }
.banner { background:#fffaeb; border:1px solid #fdb022; border-radius:8px; padding:.6rem .9rem; margin:0 0 1rem; }
.banner p { margin:.1rem 0 .4rem; } .banner .lost { color:var(--bad); font-weight:600; }
b.changed { background:#fef0c7; border-radius:4px; padding:0 .25rem; }
.live-paused { color:var(--muted); font-size:.9em; margin:0 0 .6rem; }
.banner pre.kept { background:#fff; border:1px solid var(--line); padding:.4rem; }
#flash-items { margin:.3rem 0 0; padding-left:1.2rem; color:var(--ink); font-size:.9rem; }
#flash-items .r-skipped, #flash-items .r-held { color:var(--warn); } #flash-items .r-already { color:var(--muted); }
td.customer { min-width:12rem; max-width:24rem; } .excerpt { color:var(--muted); font-size:.85rem; overflow-wrap:anywhere; }
a.kpi { color:inherit; text-decoration:none; } a.kpi:hover { border-color:var(--accent); }
@media (max-width: 800px) {
  .grid { grid-template-columns: minmax(0, 1fr); }
  main { padding:.75rem; }
  header { padding:.5rem .75rem; gap:.4rem 1rem; }
  header .who { margin-left:0; width:100%; }
  .msg { max-width:100%; }
  form.action > input:not([type=hidden]), form.action > select, form.action > label.stack { flex:1 1 12rem; min-width:0; }
  .signin { margin:1.5rem auto; }
  .kpi { min-width:7rem; flex:1 1 7rem; }
  header form.go { width:100%; } header form.go input { flex:1 1 auto; width:auto; }
}
"""
