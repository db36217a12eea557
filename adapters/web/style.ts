/**
 * The admin page's stylesheet, served by the app at /admin/assets/admin.css (kept in a module so the production
 * build carries it without a copy step). Small screens first; focus always visible; light and dark.
 */
export const ADMIN_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --line: #d5d9de; --accent: #0b5cad;
  --ok: #1f883d; --bad: #cf222e; --run: #bf8700; --muted: #8c959f; font: 15px/1.45 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --line: #30363d;
  --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--card); padding: 4px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 12px;
  background: var(--card); border-bottom: 1px solid var(--line); }
header nav { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; flex: 1; }
header ul { display: flex; gap: 4px; list-style: none; margin: 0; padding: 0; }
header li a { display: inline-block; padding: 6px 10px; border-radius: 6px; text-decoration: none; }
header a[aria-current] { background: var(--accent); color: #fff; }
.signout { margin-left: auto; }
.live { font-size: 12px; color: var(--muted); } .live::before { content: "● "; }
.live[data-live="on"] { color: var(--ok); }
main { padding: 12px; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.4em; margin: 8px 0 12px; } h2 { font-size: 1.05em; margin: 8px 0; }
.cards { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.figure { font-size: 1.6em; margin: 4px 0; } .figure small { font-size: 0.55em; color: var(--muted); }
.figure.bad { color: var(--bad); }
.chart { width: 100%; height: auto; display: block; }
.chart .ok, .key.ok { fill: var(--ok); background: var(--ok); } .chart .bad, .key.bad { fill: var(--bad); background: var(--bad); }
.chart .run, .key.run { fill: var(--run); background: var(--run); }
.chart .muted, .key.muted { fill: var(--muted); background: var(--muted); }
.chart .axis { stroke: var(--line); } .chart .tick { font-size: 9px; fill: var(--muted); }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 8px; }
.legend { font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.prompt { max-width: 28em; overflow-wrap: anywhere; }
.status, .state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.85em;
  border: 1px solid currentColor; white-space: nowrap; }
[data-status="completed"], [data-state="ok"] { color: var(--ok); }
[data-status="failed"], [data-state="expired"] { color: var(--bad); }
[data-status="pending"], [data-status="processing"], [data-state="cooling"], [data-state="paused"] { color: var(--run); }
[data-status="cancelled"] { color: var(--muted); }
.timeline li { color: var(--fg); margin-bottom: 6px; } .note { color: var(--muted); overflow-wrap: anywhere; }
.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
.pairs dt { color: var(--muted); } .pairs dd { margin: 0; overflow-wrap: anywhere; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 0.9em; }
input, select, button { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); min-height: 36px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.danger { background: var(--bad); border-color: var(--bad); }
.actions { display: flex; gap: 8px; margin-bottom: 12px; } [hidden] { display: none !important; }
.pager { display: flex; gap: 12px; align-items: center; margin-top: 12px; }
.flash, .error { padding: 8px 12px; border-radius: 6px; background: var(--card); border-left: 4px solid var(--ok); }
.error { border-left-color: var(--bad); }
.signin { display: flex; flex-direction: column; gap: 8px; max-width: 340px; } .help { color: var(--muted); margin: 0; }
video, .task-image { width: 100%; max-height: 420px; background: #000; border-radius: 6px; }
.task-image { background: none; object-fit: contain; }
ul.plain { padding-left: 1.1em; } code { overflow-wrap: anywhere; font-size: 0.85em; }
@media (max-width: 600px) { th, td { padding: 4px; } .tasks th:nth-child(n+4), .tasks td:nth-child(n+4) { display: none; } }
`;
