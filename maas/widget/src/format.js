// Pure formatting helpers (no DOM): times in the attraction's time zone, durations, distances,
// prices, and the ISO time sent to the API. Unit-tested with `node --test` (test/format.test.js).

const OFFSET = /(?:([+-])(\d{2}):?(\d{2})|Z)$/i;

/** The UTC offset written in an ISO 8601 time, in minutes ("...-08:00" -> -480); null if none. */
export function offsetMinutes(iso) {
  const m = OFFSET.exec(String(iso));
  if (!m) return null;
  if (!m[1]) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Date-time parts of `iso` in `tz`, or, without a zone, at the offset the time is written with:
 * the API writes times at the attraction's offset, so its wall clock is the attraction's. */
function zoned(iso, tz) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  if (tz) return { date: new Date(ms), timeZone: tz };
  const off = offsetMinutes(iso) ?? 0;
  return { date: new Date(ms + off * 60_000), timeZone: "UTC" };
}

/** "08:07" (24 h in zh-CN, the language's convention elsewhere) at the attraction's time. */
export function formatTime(iso, lang, tz) {
  const z = zoned(iso, tz);
  if (!z) return "";
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: z.timeZone }).format(z.date);
}

/** "Tue, Dec 2" / "12月2日周二" at the attraction's time. */
export function formatDay(iso, lang, tz) {
  const z = zoned(iso, tz);
  if (!z) return "";
  return new Intl.DateTimeFormat(lang, { weekday: "short", month: "short", day: "numeric", timeZone: z.timeZone })
    .format(z.date);
}

/** "45 min", "1 h 5 min" (minutes rounded up: a trip is never shorter than shown). */
export function formatDuration(seconds, t) {
  const total = Math.max(0, Math.ceil(Number(seconds) / 60));
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (h === 0) return t("minutes", { m });
  return m === 0 ? t("hours", { h }) : t("hoursMinutes", { h, m });
}

/** "350 m" (to 10 m), "1.2 km" (to 100 m), in the language's units and digits. */
export function formatDistance(metres, lang) {
  const d = Math.max(0, Number(metres) || 0);
  if (d < 1000) {
    const m = d < 10 ? Math.round(d) : Math.round(d / 10) * 10;
    return new Intl.NumberFormat(lang, { style: "unit", unit: "meter", maximumFractionDigits: 0 }).format(m);
  }
  return new Intl.NumberFormat(lang, { style: "unit", unit: "kilometer", maximumFractionDigits: 1 }).format(d / 1000);
}

/** "€2.00" for {amount, currency}; null when the price is unknown (null or malformed). */
export function formatPrice(price, lang) {
  if (!price || typeof price.amount !== "number" || !/^[A-Z]{3}$/.test(String(price.currency))) return null;
  return new Intl.NumberFormat(lang, { style: "currency", currency: price.currency }).format(price.amount);
}

/** The offset of `tz` from UTC at the instant `ms`, in minutes. */
export function zoneOffsetMinutes(tz, ms) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" })
    .formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  return offsetMinutes(name.replace(/^GMT/, "") || "Z") ?? 0;
}

function pad(n, w = 2) {
  return String(Math.abs(n)).padStart(w, "0");
}

/** A wall-clock time typed in the widget ("2026-01-06T08:00", in `tz`) as ISO 8601 with the
 * zone's offset at that time ("2026-01-06T08:00:00+01:00"). Without a zone: the browser's. */
export function wallTimeToIso(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(local));
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  let off;
  if (tz) {
    // the offset at the wall time itself: guess with the offset at that instant in UTC, correct once
    off = zoneOffsetMinutes(tz, asUtc);
    off = zoneOffsetMinutes(tz, asUtc - off * 60_000);
  } else {
    off = -new Date(y, mo - 1, d, h, mi).getTimezoneOffset();
  }
  const sign = off < 0 ? "-" : "+";
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

/** The wall-clock time "YYYY-MM-DDTHH:MM" of the instant `ms` in `tz` (for <input type=datetime-local>). */
export function isoToWallTime(ms, tz) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: tz || undefined, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit",
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const UNSAFE_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "file:", "blob:"]);

/** `url` if it is safe as a link (http(s) or an app's own scheme), else null. */
export function safeLink(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const u = new URL(url);
    return UNSAFE_SCHEMES.has(u.protocol) ? null : u.href;
  } catch {
    return null;
  }
}

/** A CSS colour from an attribute ("#0b57d0", "0b57d0" as GTFS writes it, "rebeccapurple"), or null. */
export function cssColour(value) {
  const v = String(value ?? "").trim();
  if (/^[0-9a-f]{6}$/i.test(v)) return `#${v}`;
  if (/^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(v)) return v;
  if (/^(?:rgb|hsl)a?\([\d\s.,%/+-]+\)$|^[a-z]{3,20}$/i.test(v)) return v;
  return null;
}
