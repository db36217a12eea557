/**
 * PostgreSQL refuses the NUL character in text, and its `\u0000` escape in jsonb, where SQLite keeps both: a NUL in
 * an upstream's error message or a chat field would make a write fail and leave its task unrecorded. So every string
 * parameter of the store's pool loses its NULs on the way in — in one place, the pool's client class — and JSON text
 * its `\u0000` escapes.
 */
import pg from 'pg';

/** An odd run of backslashes before `u0000` is the escape; an even run is escaped backslashes followed by text. */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

function withoutNul(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.includes('\0') ? value.replaceAll('\0', '') : value;
  if (!text.includes('\\u0000') || !/^[[{]/.test(text)) return text;
  try {
    JSON.parse(text);
  } catch {
    return text; // not JSON: the six characters are the user's own
  }
  return text.replace(NUL_ESCAPE, '$1');
}

type Query = (...args: unknown[]) => unknown;

/** A `pg.Client` whose queries' parameters are NUL-free; give it to a pool as its `Client`. */
export class NulFreeClient extends pg.Client {}

const query = pg.Client.prototype.query as unknown as Query;
NulFreeClient.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const [config, values] = args;
  if (Array.isArray(values)) args[1] = values.map(withoutNul);
  else if (config && typeof config === 'object' && Array.isArray((config as pg.QueryConfig).values)) {
    args[0] = { ...config, values: (config as pg.QueryConfig).values!.map(withoutNul) };
  }
  return query.apply(this, args);
} as unknown as pg.Client['query'];
