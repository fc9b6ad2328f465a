/**
 * Profiling aid, loaded into Hive only by `BENCH_PROFILE=1` (node --import): counts every statement Hive sends
 * through `pg` (TypeORM's pool and the LISTEN connection alike) by its opening text, so the benchmark can print the
 * statements per task. The counts are read through the inspector (`globalThis.__hiveBenchQueries()`).
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

type Query = (this: unknown, ...args: unknown[]) => unknown;

const require = createRequire(resolve(process.cwd(), 'package.json'));
const pg = require('pg') as { Client: { prototype: { query: Query } } };
const counts = new Map<string, number>();
const original = pg.Client.prototype.query;

pg.Client.prototype.query = function query(this: unknown, ...args: unknown[]): unknown {
  const config = args[0];
  const inner: unknown =
    typeof config === 'object' && config !== null ? (config as { text?: unknown }).text : undefined;
  const text = typeof config === 'string' ? config : typeof inner === 'string' ? inner : '';
  const shape = text.replace(/\s+/g, ' ').trim().slice(0, 70);
  counts.set(shape, (counts.get(shape) ?? 0) + 1);
  return original.apply(this, args);
};

(globalThis as { __hiveBenchQueries?: () => string }).__hiveBenchQueries = () =>
  JSON.stringify(Object.fromEntries(counts));
