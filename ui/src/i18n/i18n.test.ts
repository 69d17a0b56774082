// @vitest-environment node
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from './en';
import zhCN from './zh-CN';
import { FIELD_TYPES } from '../lib/entity';
import { FILTER_OPS } from '../lib/filter';
import { ALL_OPS, PERIODS } from '../lib/condition';
import { CORE_NODE_TYPES, TRIGGER_TYPES } from '../lib/flow';
import { AGGS, CHART_TYPES, REPORT_KINDS } from '../lib/report';
import { ACTIONS, SCOPES } from '../api/admin';
import { DEF_KINDS } from '../api/defs';

type Tree = { [k: string]: string | Tree };

function flatten(o: Tree, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else Object.assign(out, flatten(v, key));
  }
  return out;
}

const EN = flatten(en as Tree);
const ZH = flatten(zhCN as Tree);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f: string) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx)$/.test(f) && !/\.test\./.test(f) ? [p] : [];
  });
}

const src = join(process.cwd(), 'src'); // vitest runs in ui/
const code = sources(src).map((f) => readFileSync(f, 'utf8')).join('\n');

describe('i18n', () => {
  it('en and zh-CN have exactly the same keys', () => {
    const onlyEn = Object.keys(EN).filter((k) => !(k in ZH));
    const onlyZh = Object.keys(ZH).filter((k) => !(k in EN));
    expect(onlyEn, 'keys missing in zh-CN').toEqual([]);
    expect(onlyZh, 'keys missing in en').toEqual([]);
  });

  it('no translation is empty', () => {
    expect(Object.entries(EN).filter(([, v]) => !v.trim()).map(([k]) => k)).toEqual([]);
    expect(Object.entries(ZH).filter(([, v]) => !v.trim()).map(([k]) => k)).toEqual([]);
  });

  it('every literal t() key used in the source exists in both languages', () => {
    const used = new Set<string>();
    for (const m of code.matchAll(/\bt\(\s*'([^'$`]+)'/g)) used.add(m[1]);
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !(k in EN) || !(k in ZH));
    expect(missing).toEqual([]);
  });

  it('every dynamic t(`prefix.${x}`) namespace exists', () => {
    const prefixes = new Set<string>();
    for (const m of code.matchAll(/\bt\(\s*`([a-zA-Z.]+)\.\$\{/g)) prefixes.add(m[1]);
    const missing = [...prefixes].filter((p) => !Object.keys(EN).some((k) => k.startsWith(`${p}.`)));
    expect(missing).toEqual([]);
  });

  it.each([
    ['fieldTypes', FIELD_TYPES as readonly string[]],
    ['ops', FILTER_OPS as readonly string[]],
    ['condOps', ALL_OPS],
    ['periods', PERIODS],
    ['triggers', TRIGGER_TYPES],
    ['nodes', CORE_NODE_TYPES],
    ['reportKinds', REPORT_KINDS],
    ['aggs', AGGS],
    ['charts', CHART_TYPES],
    ['actions', ACTIONS],
    ['scopes', SCOPES],
    ['kinds', DEF_KINDS],
    ['runStatus', ['queued', 'running', 'waiting', 'succeeded', 'failed']],
    ['tasks.outcomes', ['approve', 'reject', 'done']],
  ])('namespace %s covers every value', (ns, values) => {
    const missing = values.filter((v) => !(`${ns}.${v}` in EN) || !(`${ns}.${v}` in ZH));
    expect(missing).toEqual([]);
  });

  it('interpolation placeholders match between languages', () => {
    const ph = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort().join(',');
    const bad = Object.keys(EN).filter((k) => k in ZH && ph(EN[k]) !== ph(ZH[k]));
    expect(bad).toEqual([]);
  });
});
