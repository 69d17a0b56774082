// Bundle-size budget, run by `make test` after the UI build (`node scripts/bundle-size.mjs`).
//
// From dist/.vite/manifest.json it computes, per page, the gzip size of the JavaScript a browser
// downloads when it opens that page first: the entry chunk with its static imports (what
// index.html loads and modulepreloads) plus the page's lazy chunk with its static imports.
// It fails when the first page (login, app list) is above FIRST_PAGE_KB, when any other page is
// above PAGE_KB, or when index.html modulepreloads a chunk of a lazy page (the designers).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const FIRST_PAGE_KB = 300;
const PAGE_KB = 1000; // designers (echarts, @xyflow, CodeMirror) may be heavy, within reason
const FIRST_PAGES = ['src/pages/Login.tsx', 'src/pages/AppsList.tsx'];
// The signed-in pages render inside the app frame, itself a lazy chunk.
const LAYOUT = 'src/components/Shell.tsx';

const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));
const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
if (!entryKey) throw new Error('no entry chunk in the manifest');

const sizes = new Map();
const gz = (file) => {
  if (!sizes.has(file)) sizes.set(file, gzipSync(readFileSync(join(dist, file)), { level: 9 }).length);
  return sizes.get(file);
};
// The chunk of a manifest key with every chunk it imports statically.
const closure = (key, into = new Set()) => {
  const c = manifest[key];
  if (!c || into.has(c.file)) return into;
  into.add(c.file);
  for (const k of c.imports ?? []) closure(k, into);
  return into;
};
// What a browser that accepts br downloads: the precompressed copy, or the file itself when small.
const br = (file) => (existsSync(join(dist, file + '.br')) ? statSync(join(dist, file + '.br')).size : statSync(join(dist, file)).size);
const brKb = (files) => [...files].filter((f) => f.endsWith('.js')).reduce((n, f) => n + br(f), 0) / 1024;
const kb = (files) => [...files].filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0) / 1024;

const entry = closure(entryKey);
const failures = [];
const rows = [];
const check = (name, files, budget) => {
  const size = kb(files);
  rows.push({ page: name, 'gzip KB': size.toFixed(1), 'br KB': brKb(files).toFixed(1), 'budget KB': budget, chunks: files.size });
  if (size > budget) failures.push(`${name}: ${size.toFixed(1)} KB of gzipped JavaScript > ${budget} KB`);
};

const lazyPages = (manifest[entryKey].dynamicImports ?? []).filter((k) => manifest[k]);
const loginIsEager = !lazyPages.includes('src/pages/Login.tsx');
check(loginIsEager ? 'login (entry)' : 'entry', entry, FIRST_PAGE_KB);
const framed = manifest[LAYOUT] ? closure(LAYOUT, new Set(entry)) : entry;
for (const key of lazyPages) {
  if (key === LAYOUT) continue;
  const files = closure(key, new Set(key === 'src/pages/Login.tsx' ? entry : framed));
  const name = key.replace(/^src\/pages\//, '').replace(/\.tsx?$/, '');
  check(name, files, FIRST_PAGES.includes(key) ? FIRST_PAGE_KB : PAGE_KB);
}

// index.html must not modulepreload what only lazy pages need.
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const preloaded = [...html.matchAll(/<link rel="modulepreload"[^>]*href="\/([^"]+)"/g)].map((m) => m[1]);
for (const f of preloaded) {
  if (!entry.has(f)) failures.push(`index.html modulepreloads ${f}, which the entry does not import`);
}

console.table(rows);
if (failures.length) {
  console.error('bundle-size budget exceeded:\n  ' + failures.join('\n  '));
  process.exit(1);
}
console.log(`bundle size OK: first page <= ${FIRST_PAGE_KB} KB, other pages <= ${PAGE_KB} KB of gzipped JavaScript`);
