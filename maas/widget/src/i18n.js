// Messages of the widget, per language. The accessible names of the contract (DESIGN.md
// section 4: "From", "Plan trip", "Itineraries") are NOT translated: they are the elements'
// aria-label in every language, and the translated text is what is shown (and described).

/** The contract's accessible names: stable in every language. */
export const CONTRACT = Object.freeze({ from: "From", plan: "Plan trip", itineraries: "Itineraries" });

const en = {
  title: "Plan your trip to {to}",
  titleNoName: "Plan your trip",
  from: "From",
  fromPlaceholder: "Stop or station",
  suggestions: "Suggestions",
  noSuggestion: "No stop matches",
  myLocation: "Use my location",
  locating: "Finding your location…",
  locationDenied: "Your location is not available.",
  hereName: "My location",
  when: "When",
  departNow: "Leave now",
  departAt: "Depart at",
  arriveBy: "Arrive by",
  time: "Time",
  modes: "Travel by",
  plan: "Plan trip",
  planning: "Planning…",
  itineraries: "Itineraries",
  pickFrom: "Choose a starting point first.",
  found: { one: "{n} itinerary found.", other: "{n} itineraries found." },
  transfers: { zero: "no transfers", one: "{n} transfer", other: "{n} transfers" },
  walk: "{d} walk",
  priceUnknown: "price unknown",
  total: "Total {p}",
  towards: "towards {h}",
  stops: { one: "{n} stop", other: "{n} stops" },
  open: "Open in {p}",
  sketch: "Sketch of the route",
  map: "Map of the route",
  minutes: "{m} min",
  hoursMinutes: "{h} h {m} min",
  hours: "{h} h",
  reasons: {
    outside_coverage: "This place is outside the area we cover.",
    no_service_on_date: "There is no service on that date.",
    no_connection: "No connection found at that time. Try another time or more travel options.",
    unknown_stop: "That stop is not known.",
    other: "No itinerary found.",
  },
  networkError: "The trip planner cannot be reached.",
  serverError: "The trip planner could not answer ({s}).",
  modeNames: {
    walk: "Walk", bike: "Bike", bikeshare: "Bike share", scooter: "Scooter", ridehail: "Ride-hail", car: "Car",
    transit: "Public transport", bus: "Bus", tram: "Tram", subway: "Metro", rail: "Train", ferry: "Ferry",
    cable_car: "Cable car", gondola: "Gondola", funicular: "Funicular", trolleybus: "Trolleybus",
    monorail: "Monorail", coach: "Coach",
  },
};

const zhCN = {
  title: "规划前往{to}的行程",
  titleNoName: "规划行程",
  from: "出发地",
  fromPlaceholder: "车站或站点",
  suggestions: "建议",
  noSuggestion: "没有匹配的站点",
  myLocation: "使用我的位置",
  locating: "正在获取您的位置…",
  locationDenied: "无法获取您的位置。",
  hereName: "我的位置",
  when: "时间",
  departNow: "现在出发",
  departAt: "出发时间",
  arriveBy: "到达时间",
  time: "时间",
  modes: "出行方式",
  plan: "规划行程",
  planning: "正在规划…",
  itineraries: "行程方案",
  pickFrom: "请先选择出发地。",
  found: { other: "找到{n}个行程方案。" },
  transfers: { zero: "无需换乘", other: "换乘{n}次" },
  walk: "步行{d}",
  priceUnknown: "价格未知",
  total: "合计{p}",
  towards: "开往{h}",
  stops: { other: "{n}站" },
  open: "在{p}中打开",
  sketch: "路线示意图",
  map: "路线地图",
  minutes: "{m}分钟",
  hoursMinutes: "{h}小时{m}分钟",
  hours: "{h}小时",
  reasons: {
    outside_coverage: "该地点不在服务范围内。",
    no_service_on_date: "该日期没有运营服务。",
    no_connection: "该时间没有可用的路线，请尝试其他时间或更多出行方式。",
    unknown_stop: "未知的站点。",
    other: "未找到行程方案。",
  },
  networkError: "无法连接行程规划服务。",
  serverError: "行程规划服务无法响应（{s}）。",
  modeNames: {
    walk: "步行", bike: "自行车", bikeshare: "共享单车", scooter: "电动滑板车", ridehail: "网约车", car: "驾车",
    transit: "公共交通", bus: "公交车", tram: "有轨电车", subway: "地铁", rail: "火车", ferry: "轮渡",
    cable_car: "缆车", gondola: "吊厢缆车", funicular: "缆索铁路", trolleybus: "无轨电车", monorail: "单轨",
    coach: "长途客车",
  },
};

export const MESSAGES = Object.freeze({ en, "zh-CN": zhCN });
export const LANGUAGES = Object.freeze(Object.keys(MESSAGES));

/** The supported language closest to a BCP 47 tag ("zh", "zh-Hans-CN" -> "zh-CN"; else "en"). */
export function pickLanguage(tag) {
  const t = String(tag || "").trim().toLowerCase();
  if (!t) return "en";
  if (t === "zh" || t.startsWith("zh-cn") || t.startsWith("zh-hans") || t.startsWith("zh-sg")) return "zh-CN";
  const base = t.split("-")[0];
  return LANGUAGES.find((l) => l.toLowerCase() === t || l.toLowerCase() === base) || "en";
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** A translator for `lang`: t("key", {param}) and t.plural("key", n, {params}). */
export function translator(lang) {
  const code = pickLanguage(lang);
  const msgs = MESSAGES[code];
  const rules = new Intl.PluralRules(code);
  const find = (table, key) => key.split(".").reduce((o, k) => (o == null ? o : o[k]), table);
  const lookup = (key) => find(msgs, key) ?? find(en, key); // a missing translation shows English
  const t = (key, params = {}) => {
    const text = lookup(key);
    return typeof text === "string" ? fill(text, params) : key;
  };
  t.lang = code;
  t.plural = (key, n, params = {}) => {
    const forms = lookup(key) || {};
    const form = (n === 0 && forms.zero) || forms[rules.select(n)] || forms.other || key;
    return fill(form, { n, ...params });
  };
  t.mode = (mode) => (msgs.modeNames[mode] ?? en.modeNames[mode] ?? mode);
  return t;
}
