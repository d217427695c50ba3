// Builds the web chat: `node web/build.mjs --outdir DIR` bundles src/main.js and the CSS it
// imports with esbuild (minified, ES2020, no source maps) and writes
//   DIR/index.html              (from src/index.html, referring to the two assets)
//   DIR/assets/app-<hash>.js
//   DIR/assets/app-<hash>.css
// each also brotli- and gzip-compressed (NAME.br, NAME.gz).
// The names carry a content hash, so the server may let browsers cache them for good. Files an
// earlier build wrote into DIR and this one did not are removed. Exits non-zero with a message
// on any failure.

import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const MANIFEST = '.web-build.json';
// What this script names its assets; anything else in DIR/assets is left alone.
const OWN_ASSET = /^app-[A-Za-z0-9]+\.(?:js|css)(?:\.LEGAL\.txt)?(?:\.br|\.gz)?$/;

// The server sends these as they are to clients that accept brotli or gzip (and checks that
// they decompress to the file), so no request and no start-up pays for compressing.
function compressed(name, contents) {
  const brotli = brotliCompressSync(contents, {
    params: {
      [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
      [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
      [zlib.BROTLI_PARAM_SIZE_HINT]: contents.length,
    },
  });
  const gzip = gzipSync(contents, { level: 9 });
  return [
    { name: `${name}.br`, contents: brotli },
    { name: `${name}.gz`, contents: gzip },
  ];
}

function fail(message) {
  process.stderr.write(`web build failed: ${message}\n`);
  process.exit(1);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({ options: { outdir: { type: 'string' } }, allowPositionals: false });
  } catch (e) {
    fail(`${e.message}\nusage: node build.mjs --outdir DIR`);
  }
  if (!parsed.values.outdir) fail('--outdir DIR is required\nusage: node build.mjs --outdir DIR');
  return { outdir: resolve(parsed.values.outdir) };
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    fail(`esbuild is not installed: run \`npm ci\` in ${here}`);
  }
  return null;
}

// Writes atomically: a reader (the server starting) never sees half a file.
async function writeAtomically(path, contents) {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

async function previousFiles(outdir) {
  const files = new Set();
  try {
    const manifest = JSON.parse(await readFile(join(outdir, MANIFEST), 'utf8'));
    for (const f of manifest.files ?? []) if (typeof f === 'string') files.add(f);
  } catch {
    // No manifest (a first build, or one that was interrupted): fall back to our own names.
  }
  try {
    for (const name of await readdir(join(outdir, 'assets'))) {
      if (OWN_ASSET.test(name)) files.add(`assets/${name}`);
    }
  } catch {
    // No assets directory yet.
  }
  return files;
}

async function main() {
  const { outdir } = options();
  const esbuild = await loadEsbuild();
  const assetsDir = join(outdir, 'assets');

  let result;
  try {
    result = await esbuild.build({
      entryPoints: { app: join(here, 'src', 'main.js') },
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2020',
      platform: 'browser',
      sourcemap: false,
      legalComments: 'eof',
      charset: 'utf8',
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      outdir: assetsDir,
      define: { 'process.env.NODE_ENV': '"production"' },
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
  } catch (e) {
    const messages = (e.errors ?? []).map((m) =>
      m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text,
    );
    fail(messages.length > 0 ? messages.join('\n') : e.message);
  }

  const outputs = result.outputFiles.map((f) => ({
    name: relative(outdir, f.path).split('\\').join('/'),
    contents: f.contents,
  }));
  const js = outputs.find((o) => /^assets\/app-[^/]+\.js$/.test(o.name));
  const css = outputs.find((o) => /^assets\/app-[^/]+\.css$/.test(o.name));
  if (!js || !css) {
    const names = outputs.map((o) => o.name).join(', ');
    fail(`expected one app-<hash>.js and one app-<hash>.css, got ${names}`);
  }
  for (const o of outputs) {
    if (o.name.includes('/', 'assets/'.length)) fail(`an asset in a subdirectory: ${o.name}`);
  }

  let template;
  try {
    template = await readFile(join(here, 'src', 'index.html'), 'utf8');
  } catch (e) {
    fail(`cannot read src/index.html: ${e.message}`);
  }
  if (!template.includes('%APP_JS%') || !template.includes('%APP_CSS%')) {
    fail('src/index.html must contain %APP_JS% and %APP_CSS%');
  }
  const html = template
    .replace('%APP_JS%', basename(js.name))
    .replace('%APP_CSS%', basename(css.name));

  try {
    const stale = await previousFiles(outdir);
    await mkdir(assetsDir, { recursive: true });
    const files = [...outputs, { name: 'index.html', contents: Buffer.from(html) }];
    for (const f of [...files]) files.push(...compressed(f.name, f.contents));
    for (const f of files) await writeAtomically(join(outdir, f.name), f.contents);
    const written = files.map((f) => f.name);
    for (const name of stale) {
      if (!written.includes(name) && !name.startsWith('..') && !name.startsWith('/')) {
        await rm(join(outdir, name), { force: true });
      }
    }
    await writeAtomically(
      join(outdir, MANIFEST),
      `${JSON.stringify({ files: written }, null, 2)}\n`,
    );
  } catch (e) {
    fail(`cannot write to ${outdir}: ${e.message}`);
  }

  const sizes = outputs.map((o) => `${o.name} (${Math.round(o.contents.length / 1024)} KiB)`);
  process.stdout.write(`web build: ${outdir}: index.html, ${sizes.join(', ')}\n`);
}

main().catch((e) => fail(e?.stack ?? String(e)));
