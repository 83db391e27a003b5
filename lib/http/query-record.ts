// A query string in the shape Next.js hands to pages, so pages and API routes share one parser.
// Pure module: client components import it through the filter schemas.

/** A query string as Next.js hands it to pages (a repeated key becomes an array). */
export type TQueryRecord = Record<string, string | string[] | undefined>;

/** URLSearchParams → the same shape pages receive. */
export function toQueryRecord(params: URLSearchParams): TQueryRecord {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}
