// Unit tests of the pure modules: `node --test test/` (run by tests/maas/test_widget_build.py).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  cssColour, formatDay, formatDistance, formatDuration, formatPrice, formatTime, isoToWallTime, offsetMinutes,
  safeLink, wallTimeToIso, zoneOffsetMinutes,
} from "../src/format.js";
import { CONTRACT, MESSAGES, pickLanguage, translator } from "../src/i18n.js";
import { decodePolyline } from "../src/polyline.js";
import { mapLayout, sketchLayout, tileTemplate, worldPixel } from "../src/sketch.js";

const en = translator("en");
const zh = translator("zh-CN");

test("offsets written in ISO times", () => {
  assert.equal(offsetMinutes("2021-12-02T08:07:00-08:00"), -480);
  assert.equal(offsetMinutes("2026-01-06T08:00:00+05:30"), 330);
  assert.equal(offsetMinutes("2026-01-06T08:00:00Z"), 0);
  assert.equal(offsetMinutes("2026-01-06T08:00:00"), null);
});

test("times are the attraction's wall clock, with or without a tz attribute", () => {
  const iso = "2021-12-02T08:07:00-08:00";
  // no zone: the offset the API wrote (the attraction's), whatever the machine's zone is
  assert.equal(formatTime(iso, "en-GB"), "08:07");
  assert.equal(formatTime(iso, "zh-CN"), "08:07");
  assert.match(formatTime(iso, "en"), /^08:07\s?AM$/);
  // a zone: converted into it
  assert.equal(formatTime(iso, "en-GB", "America/Los_Angeles"), "08:07");
  assert.equal(formatTime(iso, "en-GB", "Europe/Rome"), "17:07");
  assert.equal(formatTime("not a time", "en"), "");
});

test("day of the trip in the attraction's zone", () => {
  // 23:30 in Los Angeles is already the next day in UTC: the day shown is the local one
  const iso = "2021-12-02T23:30:00-08:00";
  assert.equal(formatDay(iso, "en-US"), "Thu, Dec 2");
  assert.equal(formatDay(iso, "en-US", "America/Los_Angeles"), "Thu, Dec 2");
  assert.equal(formatDay(iso, "en-US", "Europe/Rome"), "Fri, Dec 3");
  assert.match(formatDay(iso, "zh-CN"), /12月2日/);
});

test("durations round up to the minute, per language", () => {
  assert.equal(formatDuration(1110, en), "19 min");
  assert.equal(formatDuration(60, en), "1 min");
  assert.equal(formatDuration(3600, en), "1 h");
  assert.equal(formatDuration(3900, en), "1 h 5 min");
  assert.equal(formatDuration(3900, zh), "1小时5分钟");
  assert.equal(formatDuration(300, zh), "5分钟");
  assert.equal(formatDuration(-5, en), "0 min");
});

test("distances: metres to 10 m, then kilometres to 100 m", () => {
  assert.equal(formatDistance(7.4, "en"), "7 m");
  assert.equal(formatDistance(423, "en"), "420 m");
  assert.equal(formatDistance(1234, "en"), "1.2 km");
  assert.equal(formatDistance(1234, "zh-CN"), "1.2公里");
  assert.equal(formatDistance(null, "en"), "0 m");
});

test("prices, and unknown ones", () => {
  assert.equal(formatPrice({ amount: 2.5, currency: "EUR" }, "en"), "€2.50");
  assert.equal(formatPrice({ amount: 2.5, currency: "USD" }, "en"), "$2.50");
  assert.equal(formatPrice({ amount: 3, currency: "CNY" }, "zh-CN"), "¥3.00");
  assert.equal(formatPrice(null, "en"), null);
  assert.equal(formatPrice({ amount: 2, currency: "<b>" }, "en"), null);
  assert.equal(en("priceUnknown"), "price unknown");
  assert.equal(zh("priceUnknown"), "价格未知");
});

test("a typed wall time becomes ISO with the zone's offset at that date (DST aware)", () => {
  assert.equal(wallTimeToIso("2026-01-06T08:00", "Europe/Rome"), "2026-01-06T08:00:00+01:00");
  assert.equal(wallTimeToIso("2026-07-06T08:00", "Europe/Rome"), "2026-07-06T08:00:00+02:00");
  assert.equal(wallTimeToIso("2021-12-02T08:00", "America/Los_Angeles"), "2021-12-02T08:00:00-08:00");
  assert.equal(wallTimeToIso("2026-01-06T08:00", "Asia/Kolkata"), "2026-01-06T08:00:00+05:30");
  assert.equal(wallTimeToIso("garbage", "Europe/Rome"), null);
  assert.equal(zoneOffsetMinutes("UTC", Date.UTC(2026, 0, 1)), 0);
  const ms = Date.parse("2026-01-06T07:00:00Z");
  assert.equal(isoToWallTime(ms, "Europe/Rome"), "2026-01-06T08:00");
  assert.equal(wallTimeToIso(isoToWallTime(ms, "America/Sao_Paulo"), "America/Sao_Paulo"), "2026-01-06T04:00:00-03:00");
});

test("languages: zh variants map to zh-CN, others fall back to English", () => {
  assert.equal(pickLanguage("zh"), "zh-CN");
  assert.equal(pickLanguage("zh-Hans-CN"), "zh-CN");
  assert.equal(pickLanguage("ZH-cn"), "zh-CN");
  assert.equal(pickLanguage("en-GB"), "en");
  assert.equal(pickLanguage("fr"), "en");
  assert.equal(pickLanguage(""), "en");
  assert.equal(translator("zh").lang, "zh-CN");
});

test("plurals and messages per language", () => {
  assert.equal(en.plural("transfers", 0), "no transfers");
  assert.equal(en.plural("transfers", 1), "1 transfer");
  assert.equal(en.plural("transfers", 2), "2 transfers");
  assert.equal(zh.plural("transfers", 0), "无需换乘");
  assert.equal(zh.plural("transfers", 2), "换乘2次");
  assert.equal(en.plural("found", 1), "1 itinerary found.");
  assert.equal(en.plural("found", 3), "3 itineraries found.");
  assert.equal(zh.plural("stops", 4), "4站");
  assert.equal(en("title", { to: "Riverside Museum" }), "Plan your trip to Riverside Museum");
  assert.equal(zh("title", { to: "博物馆" }), "规划前往博物馆的行程");
  assert.equal(zh.mode("subway"), "地铁");
  assert.equal(en.mode("bikeshare"), "Bike share");
  assert.equal(en.mode("hovercraft"), "hovercraft");
});

test("every English message has a Chinese translation", () => {
  const keys = (o, prefix = "") => Object.entries(o).flatMap(([k, v]) => (typeof v === "string" ? [prefix + k] : keys(v, `${prefix}${k}.`)));
  const zhKeys = new Set(keys(MESSAGES["zh-CN"]));
  for (const key of keys(MESSAGES.en)) {
    if (/^(found|transfers|stops)\./.test(key)) continue; // plural forms differ by language (zh has only "other")
    assert.ok(zhKeys.has(key), `zh-CN lacks ${key}`);
    if (!key.startsWith("modeNames.")) assert.notEqual(zh(key), en(key), key);
  }
  for (const key of ["found", "transfers", "stops"]) assert.ok(MESSAGES["zh-CN"][key].other, key);
});

test("the contract's accessible names do not depend on the language", () => {
  assert.deepEqual({ ...CONTRACT }, { from: "From", plan: "Plan trip", itineraries: "Itineraries" });
  assert.ok(Object.isFrozen(CONTRACT));
});

test("polyline decoding (Google's reference example)", () => {
  assert.deepEqual(decodePolyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@"), [[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]]);
  assert.deepEqual(decodePolyline(""), []);
  const six = decodePolyline("_izlhA~rlgdF", 6);
  assert.equal(six.length, 1);
  assert.ok(Math.abs(six[0][0] - 38.5) < 1e-9 && Math.abs(six[0][1] + 120.2) < 1e-9);
  assert.throws(() => decodePolyline("_p~iF~ps|U_"), RangeError);
});

test("the sketch fits every leg into the view box, coloured by route", () => {
  const legs = [
    { mode: "walk", from: { lat: 38.5, lon: -120.2 }, to: { lat: 40.7, lon: -120.95 }, geometry: { polyline: "_p~iF~ps|U_ulLnnqC", precision: 5 } },
    { mode: "bus", route: { color: "0064B0" }, from: { lat: 40.7, lon: -120.95 }, to: { lat: 43.252, lon: -126.453 }, geometry: { polyline: "broken!", precision: 5 } },
  ];
  const s = sketchLayout(legs, 320, 160, 12);
  assert.equal(s.lines.length, 2);
  assert.equal(s.lines[0].dashed, true);
  assert.equal(s.lines[1].colour, "#0064B0");
  const pts = s.lines.flatMap((l) => l.points.split(" ").map((p) => p.split(",").map(Number)));
  assert.equal(pts.length, 4); // 2 decoded + the broken leg's 2 ends
  for (const [x, y] of pts) assert.ok(x >= 0 && x <= 320 && y >= 0 && y <= 160, `${x},${y}`);
  assert.deepEqual(s.start, pts[0]);
  assert.deepEqual(s.end, pts[pts.length - 1]);
  assert.ok(s.start[1] > s.end[1], "north is up");
  assert.equal(sketchLayout([]), null);
});

test("links and colours from the API or the page are sanitised", () => {
  assert.equal(safeLink("https://ride.example/book?x=1"), "https://ride.example/book?x=1");
  assert.equal(safeLink("synthtaxi://book?pickup=1"), "synthtaxi://book?pickup=1");
  assert.equal(safeLink("javascript:alert(1)"), null);
  assert.equal(safeLink(" JavaScript:alert(1)"), null);
  assert.equal(safeLink("data:text/html,hi"), null);
  assert.equal(safeLink("not a url"), null);
  assert.equal(safeLink(null), null);
  assert.equal(cssColour("0b57d0"), "#0b57d0");
  assert.equal(cssColour("#abc"), "#abc");
  assert.equal(cssColour("rebeccapurple"), "rebeccapurple");
  assert.equal(cssColour("rgb(1, 2, 3)"), "rgb(1, 2, 3)");
  assert.equal(cssColour("red; background: url(x)"), null);
  assert.equal(cssColour(""), null);
});

test("web mercator pixels and the tile map layout", () => {
  assert.deepEqual(worldPixel([0, 0], 0), [128, 128]);
  const [x, y] = worldPixel([85.05112878, -180], 1);
  assert.ok(Math.abs(x) < 1e-9 && Math.abs(y) < 1e-6);
  const legs = [
    { mode: "walk", from: { lat: 45.06, lon: 7.67 }, to: { lat: 45.062, lon: 7.675 }, geometry: null },
    { mode: "tram", route: { color: "F39200" }, from: { lat: 45.062, lon: 7.675 }, to: { lat: 45.07, lon: 7.69 }, geometry: null },
  ];
  const m = mapLayout(legs, "https://tiles.example/{z}/{x}/{y}.png", 320, 160, 16);
  assert.ok(m.zoom >= 12 && m.zoom <= 16, `zoom ${m.zoom}`);
  const pts = m.lines.flatMap((l) => l.points.split(" ").map((p) => p.split(",").map(Number)));
  for (const [px, py] of pts) assert.ok(px >= 16 - 1e-6 && px <= 304 + 1e-6 && py >= 0 && py <= 160, `${px},${py}`);
  // one zoom more would not fit: the largest zoom is chosen
  const wider = legs.flatMap((l) => [[l.from.lat, l.from.lon], [l.to.lat, l.to.lon]]).map((p) => worldPixel(p, m.zoom + 1));
  const spanX = Math.max(...wider.map((p) => p[0])) - Math.min(...wider.map((p) => p[0]));
  const spanY = Math.max(...wider.map((p) => p[1])) - Math.min(...wider.map((p) => p[1]));
  assert.ok(spanX > 288 || spanY > 128);
  // the tiles cover the whole view box
  assert.ok(m.tiles.length >= 1 && m.tiles.length <= 6);
  assert.ok(m.tiles.every((t) => /^https:\/\/tiles\.example\/\d+\/\d+\/\d+\.png$/.test(t.href) && t.href.startsWith(`https://tiles.example/${m.zoom}/`)));
  assert.ok(Math.min(...m.tiles.map((t) => t.x)) <= 0 && Math.max(...m.tiles.map((t) => t.x + t.size)) >= 320);
  assert.ok(Math.min(...m.tiles.map((t) => t.y)) <= 0 && Math.max(...m.tiles.map((t) => t.y + t.size)) >= 160);
  assert.equal(m.lines[1].colour, "#F39200");
});

test("tile templates must be https (or local http) with {z}, {x} and {y}", () => {
  assert.equal(tileTemplate("https://tile.openstreetmap.org/{z}/{x}/{y}.png"), "https://tile.openstreetmap.org/{z}/{x}/{y}.png");
  assert.equal(tileTemplate("http://127.0.0.1:8080/{z}/{x}/{y}.png"), "http://127.0.0.1:8080/{z}/{x}/{y}.png");
  assert.equal(tileTemplate("http://tiles.example/{z}/{x}/{y}.png"), null);
  assert.equal(tileTemplate("https://tiles.example/{z}/{x}.png"), null);
  assert.equal(tileTemplate("javascript:alert(1)//{z}{x}{y}"), null);
  assert.equal(tileTemplate(null), null);
});
