// Google's encoded polyline format (what the API's leg geometry holds), decoded.

/** [[lat, lon], ...] of an encoded polyline with `precision` decimal digits (5 by default). */
export function decodePolyline(text, precision = 5) {
  const factor = 10 ** precision;
  const out = [];
  let i = 0;
  let lat = 0;
  let lon = 0;
  const next = () => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      if (i >= text.length) throw new RangeError("truncated polyline");
      byte = text.charCodeAt(i++) - 63;
      result |= (byte & 0x1f) << shift;
      shift += 5;
    } while (byte >= 0x20);
    return result & 1 ? ~(result >>> 1) : result >>> 1;
  };
  while (i < text.length) {
    lat += next();
    lon += next();
    out.push([lat / factor, lon / factor]);
  }
  return out;
}
