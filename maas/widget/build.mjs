// Builds src/ into ../static/widget.js (one minified ES module) and ../static/widget.json
// (its sha256 content hash, size and gzip size). `node build.mjs --check` builds in memory
// and fails when the committed files differ (the pytest suite runs this).
//
//   npm ci && npm run build
import { createHash } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "static");
const check = process.argv.includes("--check");
const GZIP_BUDGET = 30 * 1024;

const result = await esbuild.build({
  entryPoints: [join(here, "src", "index.js")],
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});
const code = result.outputFiles[0].contents;
const gzipBytes = gzipSync(code, { level: 9 }).length;
const manifest = {
  file: "widget.js",
  hash: createHash("sha256").update(code).digest("hex").slice(0, 16),
  bytes: code.length,
  gzip_bytes: gzipBytes,
  esbuild: esbuild.version,
};
const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;

if (gzipBytes > GZIP_BUDGET) {
  console.error(`widget.js is ${gzipBytes} bytes gzipped, over the ${GZIP_BUDGET} byte budget`);
  process.exit(1);
}
if (check) {
  const [committed, committedManifest] = await Promise.all([
    readFile(join(outDir, "widget.js")).catch(() => null),
    readFile(join(outDir, "widget.json"), "utf8").catch(() => null),
  ]);
  if (!committed || !Buffer.from(code).equals(committed) || committedManifest !== manifestText) {
    console.error("maas/static/widget.js is not the build of maas/widget/src: run `npm run build` in maas/widget");
    process.exit(1);
  }
  console.log(`up to date: ${manifest.hash}, ${manifest.bytes} bytes, ${gzipBytes} gzipped`);
} else {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "widget.js"), code);
  await writeFile(join(outDir, "widget.json"), manifestText);
  console.log(`wrote ${join(outDir, "widget.js")}: ${manifest.hash}, ${manifest.bytes} bytes, ${gzipBytes} gzipped`);
}
