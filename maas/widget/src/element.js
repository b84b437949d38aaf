// <maas-trip-planner>: plan a trip to one place (a museum, a hotel) from a stop the visitor
// types or from where they are. No framework: a shadow root, DOM built with textContent only
// (nothing from the API or the page is ever parsed as HTML), and fetch() to the trip API.

import { CONTRACT, translator } from "./i18n.js";
import {
  cssColour, formatDay, formatDistance, formatDuration, formatPrice, formatTime, isoToWallTime, safeLink,
  wallTimeToIso,
} from "./format.js";
import { mapLayout, sketchLayout, tileTemplate } from "./sketch.js";
import { STYLES } from "./styles.js";

const DEFAULT_MODES = ["walk", "transit"];
const KNOWN_MODES = new Set(["walk", "bike", "bikeshare", "scooter", "ridehail", "car", "transit", "bus", "tram",
  "subway", "rail", "ferry", "cable_car", "gondola", "funicular", "trolleybus", "monorail", "coach"]);
const LAT_LON = /^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$/;
const REASONS = new Set(["outside_coverage", "no_service_on_date", "no_connection", "unknown_stop"]);
const SVG_NS = "http://www.w3.org/2000/svg";
const SUGGEST_DELAY_MS = 150;
// where this module was loaded from: the API, unless the page says otherwise
const SCRIPT_ORIGIN = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return "";
  }
})();

let sheet = null; // one constructed stylesheet shared by every instance
function styleSheet() {
  if (sheet === null && "adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
  }
  return sheet;
}

/** document.createElement with properties; strings among the children become text nodes. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c);
  return el;
}

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function validZone(tz) {
  if (!tz) return null;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    return null;
  }
}

/** Black or white, whichever reads better on the route's colour. */
function textOn(colour) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!m) return null;
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? "#000" : "#fff";
}

export class TripPlanner extends HTMLElement {
  static observedAttributes = ["api", "key", "to", "to-name", "lang", "modes", "accent", "background", "text", "tz",
    "tiles", "tiles-attribution"];

  #root;
  #t = translator("en");
  #els = {};
  #place = null; // the chosen origin as the API takes it: "LAT,LON" or "stop:FEED:ID"
  #options = [];
  #active = -1;
  #suggestAbort = null;
  #planAbort = null;
  #timer = 0;
  #rendered = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
  }

  connectedCallback() {
    if (!this.#rendered) this.#render();
  }

  attributeChangedCallback(_name, old, value) {
    // an upgrade reports every attribute before connectedCallback: render once, there
    if (this.#rendered && old !== value) this.#render();
  }

  get api() {
    return (this.getAttribute("api") || SCRIPT_ORIGIN || location.origin).replace(/\/+$/, "");
  }

  get timeZone() {
    return validZone(this.getAttribute("tz"));
  }

  get modes() {
    const listed = (this.getAttribute("modes") || "").split(/[\s,]+/).filter((m) => KNOWN_MODES.has(m));
    return listed.length ? [...new Set(listed)] : DEFAULT_MODES;
  }

  // -- rendering ---------------------------------------------------------------------------

  #render() {
    const t = (this.#t = translator(this.getAttribute("lang") || document.documentElement.lang || navigator.language));
    const root = this.#root;
    const shared = styleSheet();
    if (shared) root.adoptedStyleSheets = [shared];
    const e = (this.#els = {});
    const toName = this.getAttribute("to-name");
    const describe = t.lang === "en" ? null : "from-label"; // the contract name is English: describe in the page's language

    e.input = h("input", {
      id: "from", type: "text", role: "combobox", "aria-label": CONTRACT.from, "aria-describedby": describe,
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "from-list", autocomplete: "off",
      spellcheck: "false", placeholder: t("fromPlaceholder"),
      oninput: () => this.#onInput(), onkeydown: (ev) => this.#onKey(ev), onblur: () => this.#close(),
    });
    e.list = h("ul", { id: "from-list", role: "listbox", "aria-label": t("suggestions"), hidden: true });
    e.locate = "geolocation" in navigator
      ? h("button", { type: "button", class: "locate", onclick: () => this.#locate() }, t("myLocation"))
      : null;
    e.when = h("select", { id: "when", "aria-label": t("when"), onchange: () => this.#syncWhen() },
      h("option", { value: "now" }, t("departNow")),
      h("option", { value: "depart" }, t("departAt")),
      h("option", { value: "arrive" }, t("arriveBy")));
    e.time = h("input", { id: "time", type: "datetime-local", "aria-label": t("time"), hidden: true });
    const modes = this.modes;
    e.modes = modes.map((m) => h("input", { type: "checkbox", name: "mode", value: m, checked: true }));
    e.status = h("p", { class: "status", role: "status", "aria-live": "polite" });
    e.heading = h("h3", { id: "results-heading", hidden: true }, t("itineraries"));
    e.results = h("ol", { class: "results", "aria-label": CONTRACT.itineraries, hidden: true });

    const container = h("div", { class: "maas", lang: t.lang, part: "container" },
      h("h2", {}, toName ? t("title", { to: toName }) : t("titleNoName")),
      h("form", { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); this.#plan(); } },
        h("div", {},
          h("label", { for: "from", id: "from-label" }, t("from")),
          h("div", { class: "combo" }, e.input, e.list, e.locate)),
        h("div", { class: "row" }, e.when, e.time),
        modes.length > 1
          ? h("fieldset", { class: "modes" }, h("legend", {}, t("modes")),
            h("div", { class: "row" }, modes.map((m, k) => h("label", {}, e.modes[k], t.mode(m)))))
          : null,
        h("div", {}, h("button", { type: "submit", class: "primary", "aria-label": CONTRACT.plan }, t("plan")))),
      e.status, e.heading, e.results);
    for (const [attr, prop] of [["accent", "--maas-accent"], ["background", "--maas-background"], ["text", "--maas-text"]]) {
      const colour = cssColour(this.getAttribute(attr));
      if (colour) container.style.setProperty(prop, colour);
    }
    root.replaceChildren(...(shared ? [] : [h("style", {}, STYLES)]), container);
    this.#place = null;
    this.#options = [];
    this.#rendered = true;
  }

  #syncWhen() {
    const e = this.#els;
    const now = e.when.value === "now";
    e.time.hidden = now;
    if (!now && !e.time.value) e.time.value = isoToWallTime(Date.now(), this.timeZone);
  }

  #say(text, error = false) {
    this.#els.status.textContent = text;
    this.#els.status.classList.toggle("error", error);
  }

  // -- place search (ARIA 1.2 combobox with a listbox popup) ----------------------------------

  #headers() {
    const key = this.getAttribute("key");
    return key ? { Accept: "application/json", "X-API-Key": key } : { Accept: "application/json" };
  }

  #onInput() {
    this.#place = null;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#suggest(this.#els.input.value), SUGGEST_DELAY_MS);
  }

  async #fetchStops(text) {
    this.#suggestAbort?.abort();
    const abort = (this.#suggestAbort = new AbortController());
    const url = `${this.api}/v1/stops?${new URLSearchParams({ q: text, limit: "8" })}`;
    const r = await fetch(url, { headers: this.#headers(), signal: abort.signal, credentials: "omit" });
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status });
    const body = await r.json();
    return Array.isArray(body.stops) ? body.stops : [];
  }

  async #suggest(text) {
    const q = text.trim();
    if (!q || LAT_LON.test(q)) {
      this.#close();
      return;
    }
    try {
      this.#options = await this.#fetchStops(q);
    } catch (err) {
      // an answer with an error status (a refused key, a rate limit) is not a network failure
      if (err.name !== "AbortError") {
        this.#say(err.status ? this.#t("serverError", { s: err.status }) : this.#t("networkError"), true);
      }
      return;
    }
    if (this.#els.input.value.trim() !== q) return; // typed on meanwhile
    this.#showOptions();
  }

  #showOptions() {
    const { list, input } = this.#els;
    const t = this.#t;
    this.#active = -1;
    input.removeAttribute("aria-activedescendant");
    if (this.#options.length === 0) {
      list.replaceChildren(h("li", { role: "option", "aria-disabled": "true", "aria-selected": "false" }, t("noSuggestion")));
    } else {
      list.replaceChildren(...this.#options.map((stop, k) => h("li", {
        id: `from-option-${k}`, role: "option", "aria-selected": "false",
        onmousedown: (ev) => ev.preventDefault(), // keep the focus in the field
        onclick: () => this.#choose(k),
      }, stop.name)));
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  #close() {
    const { list, input } = this.#els;
    if (!list) return;
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    this.#active = -1;
  }

  #move(step) {
    const { list, input } = this.#els;
    const n = this.#options.length;
    if (n === 0) return;
    if (list.hidden) this.#showOptions();
    this.#active = this.#active < 0 ? (step > 0 ? 0 : n - 1) : (this.#active + step + n) % n;
    [...list.children].forEach((li, k) => li.setAttribute("aria-selected", String(k === this.#active)));
    const li = list.children[this.#active];
    input.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView?.({ block: "nearest" });
  }

  #onKey(ev) {
    const open = !this.#els.list.hidden;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (ev.altKey && ev.key === "ArrowDown") this.#options.length && this.#showOptions();
      else this.#move(ev.key === "ArrowDown" ? 1 : -1);
    } else if (ev.key === "Enter" && open && this.#active >= 0) {
      ev.preventDefault(); // choose the suggestion; a second Enter plans
      this.#choose(this.#active);
    } else if (ev.key === "Escape") {
      if (open) this.#close();
      else {
        this.#els.input.value = "";
        this.#place = null;
      }
    }
  }

  #choose(k) {
    const stop = this.#options[k];
    if (!stop) return;
    this.#els.input.value = stop.name;
    this.#place = `stop:${stop.id}`;
    this.#close();
    this.#els.input.focus();
  }

  #locate() {
    const t = this.#t;
    this.#say(t("locating"));
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        this.#place = `${pos.coords.latitude.toFixed(6)},${pos.coords.longitude.toFixed(6)}`;
        this.#els.input.value = t("hereName");
        this.#close();
        this.#say("");
      },
      () => this.#say(t("locationDenied"), true),
      { enableHighAccuracy: false, timeout: 15_000, maximumAge: 60_000 },
    );
  }

  /** The origin to plan from: the chosen place, a typed LAT,LON, or the best match of the text. */
  async #origin() {
    if (this.#place) return this.#place;
    const text = this.#els.input.value.trim();
    const m = LAT_LON.exec(text);
    if (m) return `${m[1]},${m[2]}`;
    if (!text) return null;
    const stops = await this.#fetchStops(text);
    if (!stops.length) return null;
    this.#els.input.value = stops[0].name;
    return (this.#place = `stop:${stops[0].id}`);
  }

  // -- planning -----------------------------------------------------------------------------

  async #plan() {
    const t = this.#t;
    const e = this.#els;
    const to = this.getAttribute("to");
    this.#close();
    let from;
    try {
      from = await this.#origin();
    } catch (err) {
      if (err.name !== "AbortError") this.#say(t("networkError"), true);
      return;
    }
    if (!from || !to) {
      this.#say(t("pickFrom"), true);
      e.input.focus();
      return;
    }
    const chosen = this.modes.filter((_, k) => e.modes[k].checked);
    const params = new URLSearchParams({ from, to, modes: (chosen.length ? chosen : this.modes).join(",") });
    if (e.when.value !== "now" && e.time.value) {
      const iso = wallTimeToIso(e.time.value, this.timeZone);
      if (iso) params.set("time", iso);
      if (e.when.value === "arrive") params.set("arrive_by", "true");
    }
    params.set("num_itineraries", this.getAttribute("results") || "3");
    this.#planAbort?.abort();
    const abort = (this.#planAbort = new AbortController());
    this.#say(t("planning"));
    e.results.setAttribute("aria-busy", "true");
    let r;
    let body;
    try {
      r = await fetch(`${this.api}/v1/plan?${params}`, { headers: this.#headers(), signal: abort.signal, credentials: "omit" });
      body = await r.json().catch(() => null);
    } catch (err) {
      if (err.name !== "AbortError") this.#say(t("networkError"), true);
      e.results.removeAttribute("aria-busy");
      return;
    }
    e.results.removeAttribute("aria-busy");
    if (!r.ok) {
      const detail = body && typeof body.detail === "string" ? ` ${body.detail}` : "";
      this.#say(t("serverError", { s: r.status }) + detail, true);
      return;
    }
    this.#show(body?.itineraries ?? [], body?.reason);
  }

  #show(itineraries, reason) {
    const t = this.#t;
    const e = this.#els;
    const empty = itineraries.length === 0;
    e.heading.hidden = empty;
    e.results.hidden = empty;
    e.results.replaceChildren(...itineraries.map((it) => this.#itinerary(it)));
    if (empty) this.#say(t(`reasons.${REASONS.has(reason) ? reason : "other"}`), true);
    else this.#say(t.plural("found", itineraries.length));
  }

  #time(iso) {
    return h("time", { datetime: iso }, formatTime(iso, this.#t.lang, this.timeZone));
  }

  #itinerary(it) {
    const t = this.#t;
    const lang = t.lang;
    const total = formatPrice(it.price, lang);
    const summary = h("p", { class: "summary" },
      h("span", { class: "times" }, this.#time(it.start_time), " – ", this.#time(it.end_time)),
      h("span", { class: "muted" }, formatDay(it.start_time, lang, this.timeZone)),
      h("span", {}, formatDuration(it.duration_s, t)),
      h("span", {}, t.plural("transfers", it.transfers)),
      h("span", {}, t("walk", { d: formatDistance(it.walk_distance_m, lang) })),
      h("span", { class: total ? "price" : "price unknown" }, total ? t("total", { p: total }) : t("priceUnknown")));
    return h("li", { class: "itinerary" }, summary, this.#sketch(it.legs || []),
      h("ol", { class: "legs" }, (it.legs || []).map((leg) => this.#leg(leg))));
  }

  #leg(leg) {
    const t = this.#t;
    const lang = t.lang;
    const route = leg.route;
    const colour = cssColour(route?.color);
    const badge = h("span", { class: "badge" }, route ? `${t.mode(leg.mode)} ${route.short_name || route.long_name || ""}`.trim() : t.mode(leg.mode));
    if (colour) {
      badge.style.background = colour;
      badge.style.color = textOn(colour) || "";
    }
    const details = [];
    if (route?.long_name && route.short_name) details.push(route.long_name);
    if (leg.headsign) details.push(t("towards", { h: leg.headsign }));
    if (Array.isArray(leg.intermediate_stops)) details.push(t.plural("stops", leg.intermediate_stops.length + 1));
    details.push(formatDistance(leg.distance_m, lang), formatDuration(Date.parse(leg.end_time) / 1000 - Date.parse(leg.start_time) / 1000, t));
    const price = formatPrice(leg.price, lang);
    const link = safeLink(leg.provider?.deep_link);
    return h("li", { class: "leg" }, badge, h("div", {},
      h("p", {}, this.#time(leg.start_time), " ", leg.from?.name || "", " → ", this.#time(leg.end_time), " ", leg.to?.name || ""),
      h("p", { class: "muted" }, details.join(" · ")),
      leg.mode === "walk" ? null : h("p", { class: price ? "" : "muted" }, price || t("priceUnknown")),
      link ? h("p", {}, h("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, t("open", { p: leg.provider.name || leg.mode }))) : null));
  }

  #sketch(legs) {
    const template = tileTemplate(this.getAttribute("tiles"));
    const layout = template ? mapLayout(legs, template) : sketchLayout(legs);
    if (!layout) return null;
    const el = svg("svg", { class: "sketch", viewBox: `0 0 ${layout.width} ${layout.height}`, role: "img", "aria-label": this.#t(template ? "map" : "sketch") });
    for (const tile of layout.tiles || []) {
      el.append(svg("image", { href: tile.href, x: tile.x, y: tile.y, width: tile.size, height: tile.size, preserveAspectRatio: "none" }));
    }
    for (const line of layout.lines) {
      const attrs = { points: line.points, fill: "none", "stroke-width": line.dashed ? 2.5 : 4, "stroke-linecap": "round", "stroke-linejoin": "round" };
      if (line.dashed) attrs["stroke-dasharray"] = "2 5";
      const p = svg("polyline", attrs);
      p.style.stroke = line.colour || (line.dashed ? "var(--muted)" : "var(--accent)");
      el.append(p);
    }
    for (const [pt, fill] of [[layout.start, "var(--bg)"], [layout.end, "var(--accent)"]]) {
      const c = svg("circle", { cx: pt[0], cy: pt[1], r: 5, "stroke-width": 2 });
      c.style.fill = fill;
      c.style.stroke = "var(--accent)";
      el.append(c);
    }
    if (!template) return el;
    // tile servers ask to be credited ("© OpenStreetMap contributors")
    const credit = this.getAttribute("tiles-attribution");
    return h("figure", { class: "map" }, el, credit ? h("figcaption", { class: "muted" }, credit) : null);
  }
}
