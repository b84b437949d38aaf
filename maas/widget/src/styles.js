// The component's styles, scoped by its shadow root. Sites theme it through attributes
// (accent, background, text) or by setting the same custom properties on the element.

export const STYLES = `
:host { display: block; max-width: 44rem; min-width: 0; container-type: inline-size;
  font: 400 1rem/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.maas { --accent: var(--maas-accent, #0b57d0); --bg: var(--maas-background, #fff); --fg: var(--maas-text, #1b1b1f);
  --muted: color-mix(in srgb, var(--fg) 62%, var(--bg)); --line: color-mix(in srgb, var(--fg) 18%, var(--bg));
  background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 12px; padding: 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
form { display: grid; gap: .75rem; }
label, legend { font-weight: 600; font-size: .9rem; }
fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
.combo { position: relative; display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .25rem; }
.combo input { flex: 1 1 12rem; min-width: 0; }
input, select, button { font: inherit; color: inherit; }
input[type=text], input[type=datetime-local], select { border: 1px solid var(--line); border-radius: 8px;
  padding: .5rem .6rem; background: var(--bg); min-height: 2.75rem; max-width: 100%; }
button { border-radius: 8px; min-height: 2.75rem; padding: .5rem .9rem; cursor: pointer;
  border: 1px solid var(--accent); background: var(--bg); color: var(--accent); }
button.primary { background: var(--accent); color: #fff; font-weight: 600; }
:is(input, select, button, a, [role=option]):focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
[role=listbox] { position: absolute; z-index: 10; top: 100%; left: 0; right: 0; margin: .25rem 0 0; padding: .25rem 0;
  list-style: none; background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
  box-shadow: 0 6px 18px rgb(0 0 0 / .15); max-height: 16rem; overflow-y: auto; }
[role=option] { padding: .5rem .75rem; cursor: pointer; }
[role=option][aria-selected=true], [role=option]:hover { background: color-mix(in srgb, var(--accent) 14%, var(--bg)); }
.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .25rem; }
.modes label { font-weight: 400; display: inline-flex; gap: .35rem; align-items: center; min-height: 2rem;
  margin-right: .75rem; }
.status { min-height: 1.45em; margin: .5rem 0 0; color: var(--muted); }
.status.error { color: #b3261e; }
ol { padding: 0; margin: 0; list-style: none; }
.itinerary { border-top: 1px solid var(--line); padding: .75rem 0; }
.summary { display: flex; flex-wrap: wrap; gap: .25rem .9rem; align-items: baseline; }
.summary .times { font-weight: 700; font-size: 1.05rem; }
.summary .price { font-weight: 600; }
.summary .unknown { color: var(--muted); font-weight: 400; }
.muted { color: var(--muted); }
figure.map { margin: .5rem 0; }
figure.map svg.sketch { border-radius: 8px; background: color-mix(in srgb, var(--fg) 6%, var(--bg)); margin: 0; max-height: none; }
figure.map figcaption { font-size: .75rem; text-align: end; }
svg.sketch { display: block; width: 100%; height: auto; max-height: 10rem; margin: .5rem 0; }
.legs { display: grid; gap: .5rem; margin-top: .25rem; }
.leg { display: grid; grid-template-columns: 5.5rem 1fr; gap: .5rem; }
.badge { align-self: start; border-radius: 6px; padding: .1rem .4rem; font-size: .85rem; font-weight: 600;
  text-align: center; overflow-wrap: anywhere; background: color-mix(in srgb, var(--fg) 8%, var(--bg)); }
.leg p { margin: 0; overflow-wrap: anywhere; }
a { color: var(--accent); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
@container (max-width: 24rem) {
  .maas { padding: .75rem; }
  .leg { grid-template-columns: 1fr; gap: .15rem; }
  .badge { justify-self: start; }
  button.primary { width: 100%; }
}
`;
