// An SVG sketch of an itinerary from its legs' geometry, for sites without a map tile source:
// an equirectangular projection (fine at city scale) fitted into a fixed view box.

import { decodePolyline } from "./polyline.js";
import { cssColour } from "./format.js";

const TRANSIT = new Set(["bus", "tram", "subway", "rail", "ferry", "cable_car", "gondola", "funicular",
  "trolleybus", "monorail", "coach", "transit"]);

function legPoints(leg) {
  const g = leg.geometry;
  if (g && typeof g.polyline === "string" && g.polyline) {
    try {
      const pts = decodePolyline(g.polyline, g.precision ?? 5);
      if (pts.length >= 2) return pts;
    } catch {
      // a broken geometry falls back to the straight line between the leg's ends
    }
  }
  return [[leg.from.lat, leg.from.lon], [leg.to.lat, leg.to.lon]];
}

/** {width, height, lines: [{mode, colour, dashed, points: "x,y ..."}], start: [x, y], end: [x, y]}. */
export function sketchLayout(legs, width = 320, height = 160, pad = 12) {
  const lines = legs.map((leg) => ({ leg, pts: legPoints(leg) }));
  const all = lines.flatMap((l) => l.pts);
  if (all.length === 0) return null;
  const lats = all.map((p) => p[0]);
  const lons = all.map((p) => p[1]);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = Math.cos((midLat * Math.PI) / 180);
  const x0 = Math.min(...lons) * kx;
  const y1 = Math.max(...lats);
  const spanX = Math.max(Math.max(...lons) * kx - x0, 1e-9);
  const spanY = Math.max(y1 - Math.min(...lats), 1e-9);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const offX = (width - spanX * scale) / 2;
  const offY = (height - spanY * scale) / 2;
  const project = ([lat, lon]) => [
    Math.round((offX + (lon * kx - x0) * scale) * 10) / 10,
    Math.round((offY + (y1 - lat) * scale) * 10) / 10,
  ];
  const out = lines.map(({ leg, pts }) => {
    const transit = TRANSIT.has(leg.mode) || Boolean(leg.route);
    return {
      mode: leg.mode,
      colour: (transit && cssColour(leg.route?.color)) || null,
      dashed: leg.mode === "walk",
      points: pts.map((p) => project(p).join(",")).join(" "),
    };
  });
  return { width, height, lines: out, start: project(all[0]), end: project(all[all.length - 1]) };
}

const TILE = 256;
const MAX_ZOOM = 18;

/** Web Mercator world pixel coordinates of [lat, lon] at zoom `z`. */
export function worldPixel([lat, lon], z) {
  const scale = TILE * 2 ** z;
  const s = Math.sin((Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180);
  return [((lon + 180) / 360) * scale, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale];
}

/** A tile URL template (`https://.../{z}/{x}/{y}.png`) if it is a usable one, else null. */
export function tileTemplate(value) {
  const v = String(value ?? "").trim();
  if (!/^https:\/\/[^\s"'<>]+$/i.test(v) && !/^http:\/\/(localhost|127\.0\.0\.1)[:/][^\s"'<>]*$/i.test(v)) return null;
  return ["{z}", "{x}", "{y}"].every((k) => v.includes(k)) ? v : null;
}

/** The sketch over map tiles: the legs projected in Web Mercator at the largest zoom where they
 * fit, plus the tiles covering the view box ({href, x, y, size}). */
export function mapLayout(legs, template, width = 320, height = 160, pad = 16) {
  const lines = legs.map((leg) => ({ leg, pts: legPoints(leg) }));
  const all = lines.flatMap((l) => l.pts);
  if (all.length === 0) return null;
  let z = MAX_ZOOM;
  let box;
  for (; z > 0; z--) {
    const px = all.map((p) => worldPixel(p, z));
    const xs = px.map((p) => p[0]);
    const ys = px.map((p) => p[1]);
    box = { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
    if (box.x1 - box.x0 <= width - 2 * pad && box.y1 - box.y0 <= height - 2 * pad) break;
  }
  if (z === 0) {
    const px = all.map((p) => worldPixel(p, 0));
    box = { x0: Math.min(...px.map((p) => p[0])), x1: Math.max(...px.map((p) => p[0])),
      y0: Math.min(...px.map((p) => p[1])), y1: Math.max(...px.map((p) => p[1])) };
  }
  // the view box's top-left corner in world pixels, centring the route
  const left = (box.x0 + box.x1) / 2 - width / 2;
  const top = (box.y0 + box.y1) / 2 - height / 2;
  const project = (p) => {
    const [x, y] = worldPixel(p, z);
    return [Math.round((x - left) * 10) / 10, Math.round((y - top) * 10) / 10];
  };
  const n = 2 ** z;
  const tiles = [];
  for (let ty = Math.floor(top / TILE); ty <= Math.floor((top + height) / TILE); ty++) {
    if (ty < 0 || ty >= n) continue;
    for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + width) / TILE); tx++) {
      const wrapped = ((tx % n) + n) % n;
      const href = template.replace("{z}", String(z)).replace("{x}", String(wrapped)).replace("{y}", String(ty));
      tiles.push({ href, x: Math.round(tx * TILE - left), y: Math.round(ty * TILE - top), size: TILE });
    }
  }
  const out = lines.map(({ leg, pts }) => {
    const transit = TRANSIT.has(leg.mode) || Boolean(leg.route);
    return {
      mode: leg.mode,
      colour: (transit && cssColour(leg.route?.color)) || null,
      dashed: leg.mode === "walk",
      points: pts.map((p) => project(p).join(",")).join(" "),
    };
  });
  return { width, height, zoom: z, tiles, lines: out, start: project(all[0]), end: project(all[all.length - 1]) };
}
