/** The dashboard's stylesheet: system fonts only, no outside resource. */
export const DASHBOARD_CSS = String.raw`
:root {
  --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --muted: #5f6b7a; --line: #dde2e8;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0b5fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: baseline; justify-content: space-between; flex-wrap: wrap; gap: .5rem;
  padding: .8rem 1.5rem; background: var(--ink); color: #fff; }
h1 { margin: 0; font-size: 1.3rem; }
h1 .sub { font-weight: 400; color: #b8c2d0; font-size: 1rem; margin-left: .4rem; }
h2 { margin: 0 0 .7rem; font-size: 1.05rem; }
.status { margin: 0; font-size: .9rem; color: #b8c2d0; }
.status.live::before { content: "●"; color: #3fb950; margin-right: .35rem; }
.status.broken::before { content: "●"; color: #ff7b72; margin-right: .35rem; }
main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; padding: 1rem 1.5rem; }
@media (min-width: 48rem) { main { grid-template-columns: repeat(2, minmax(0, 1fr)); } #post-card { grid-column: 1 / -1; } }
@media (min-width: 76rem) { main { grid-template-columns: minmax(0, .7fr) minmax(0, 1.2fr) minmax(0, 1.1fr); } #post-card { grid-column: auto; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; min-width: 0; overflow-x: auto; }
.card.wide { grid-column: 1 / -1; }
form { display: flex; gap: .5rem; align-items: center; }
form label { position: absolute; left: -9999px; }
input[type=text] { flex: 1; min-width: 0; padding: .5rem .6rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
button { padding: .5rem 1rem; font: inherit; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
.result { min-height: 1.3em; margin: .6rem 0 0; font-size: .9rem; overflow-wrap: anywhere; }
.result.ok { color: var(--ok); }
.result.error { color: var(--bad); }
.facts { display: flex; flex-wrap: wrap; gap: .4rem 1.6rem; margin: 0 0 .8rem; }
.facts div { display: flex; flex-direction: column; }
.facts dt { font-size: .75rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.facts dd { margin: 0; font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
caption { text-align: left; color: var(--muted); font-size: .8rem; padding-bottom: .3rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .75rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; position: sticky; top: 0; background: var(--card); }
tfoot th, tfoot td { border-bottom: 0; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .82rem; }
meter { width: 3.5rem; vertical-align: middle; }
td.share, td.num, th.num, .badge { white-space: nowrap; }
tr.gone td { color: var(--muted); text-decoration: line-through; }
tr.gone td.state { text-decoration: none; color: var(--bad); font-weight: 600; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .78rem; font-weight: 600; }
.badge.ready, .badge.ok { background: #dafbe1; color: var(--ok); }
.badge.not-ready, .badge.warn { background: #fff8c5; color: var(--warn); }
.badge.down, .badge.bad { background: #ffebe9; color: var(--bad); }
.note { color: var(--muted); font-size: .85rem; margin: .6rem 0 0; overflow-wrap: anywhere; }
.note.error { color: var(--bad); }
.registry-entry { margin-top: .8rem; }
.registry-entry h3 { margin: 0 0 .3rem; font-size: .95rem; }
.registry-entry h3 .used { font-weight: 400; color: var(--muted); font-size: .85rem; margin-left: .4rem; }
.scroll { max-height: 28rem; overflow: auto; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 40rem; }
.count { color: var(--muted); font-weight: 400; font-size: .9rem; }
footer { padding: 0 1.5rem 1.5rem; color: var(--muted); font-size: .85rem; }
footer a { color: var(--accent); }
`;

/** A small icon, so the browser does not ask for a missing /favicon.ico. */
export const FAVICON_SVG = String.raw`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2430"/><circle cx="10" cy="11" r="4" fill="#3fb950"/><circle cx="22" cy="11" r="4" fill="#3fb950"/><circle cx="16" cy="22" r="4" fill="#3fb950"/></svg>
`;
