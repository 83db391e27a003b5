import { StringDecoder } from "node:string_decoder";
import pg from "pg";

export type TCopyField = string | null;

/**
 * Called for each row in order; return false to ignore the rest of the output (the statement
 * still runs to its end: stopping early is for a verification that already failed).
 */
export type TCopyRowHandler = (fields: TCopyField[]) => boolean | void;

/**
 * A `COPY (…) TO STDOUT` in text format, each row handed to a callback as it arrives. The rows
 * arrive as CopyData messages that `pg` passes to the active query unparsed (the Submittable
 * protocol that pg-copy-streams uses too), so one decode and one split per row replace the
 * per-column decoding of an ordinary result: that decoding was as costly as hashing the row.
 * The handler runs synchronously on each network chunk, so nothing is read from the socket
 * faster than it is handled and memory stays flat however large the output.
 */
class CopyToRowsQuery extends pg.Query {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private stopped = false;
  handlerError: unknown = null;

  constructor(
    text: string,
    private readonly onRow: TCopyRowHandler,
  ) {
    super(text);
  }

  // Called by pg's client for each CopyData message of the active query.
  handleCopyData(message: { chunk: Buffer }) {
    if (this.stopped) return;
    try {
      // Postgres sends one row per message, but the protocol does not promise it: rows and
      // multi-byte characters may span messages.
      const text = this.pending + this.decoder.write(message.chunk);
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        const line = text.slice(start, end);
        start = end + 1;
        if (this.onRow(parseCopyTextRow(line)) === false) {
          this.stopped = true;
          return;
        }
      }
      this.pending = start === text.length ? "" : text.slice(start);
    } catch (err) {
      // Thrown from here it would surface in pg's socket handler; kept for the caller instead.
      this.handlerError = err;
      this.stopped = true;
    }
  }
}

/** Runs a `COPY (…) TO STDOUT` (text format) on a client and streams its rows to onRow. */
export function copyRows(client: pg.ClientBase, sql: string, onRow: TCopyRowHandler): Promise<void> {
  return new Promise((resolve, reject) => {
    const query = client.query(new CopyToRowsQuery(sql, onRow));
    query.on("error", reject);
    query.on("end", () => (query.handlerError ? reject(query.handlerError) : resolve()));
  });
}

const ESCAPED: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/**
 * One row of COPY's text format: columns separated by tabs, `\N` for NULL, and backslash
 * escapes for backslash itself and for control characters (the only escapes COPY TO writes;
 * octal and hex escapes, which only COPY FROM reads, are refused rather than guessed).
 */
export function parseCopyTextRow(line: string): TCopyField[] {
  const fields: TCopyField[] = line.split("\t");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.indexOf("\\") === -1) continue;
    fields[i] = field === "\\N" ? null : unescapeCopyText(field);
  }
  return fields;
}

function unescapeCopyText(field: string): string {
  return field.replace(/\\(.)/gs, (_, c: string) => {
    if (/[0-7x]/.test(c)) throw new Error(`unexpected escape \\${c} in COPY output`);
    return ESCAPED[c] ?? c;
  });
}
