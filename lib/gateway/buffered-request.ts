import "server-only";

// An agent's request as the gateway's handlers take it: the few things they read (headers by
// name, the abort signal, the body). A web Request is one (app/mcp/[server]/route.ts, the tests);
// Node's server (serve-node-request.ts) builds a BufferedRequest instead, over the headers and the
// body it has read already: undici's Request and Headers cost more per poll (a URL parse, every
// header validated and copied, a signal following another) than the gateway's own checks.

export type TGatewayRequest = {
  readonly headers: { get(name: string): string | null };
  readonly signal: AbortSignal;
  readonly body: ReadableStream<Uint8Array> | null;
};

/**
 * Node's raw header list read by name the way a web Headers reads it: case-insensitive, repeated
 * fields joined with ", " (Node's own `req.headers` keeps only the first of some, such as
 * Authorization, where Headers would show both and so refuse an ambiguous credential).
 */
export class RawHeaders {
  readonly #raw: readonly string[];

  constructor(raw: readonly string[]) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const wanted = name.toLowerCase();
    const raw = this.#raw;
    let found: string | null = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue;
      found = found === null ? raw[i + 1]! : `${found}, ${raw[i + 1]!}`;
    }
    return found;
  }
}

export class BufferedRequest implements TGatewayRequest {
  readonly headers: RawHeaders;
  readonly signal: AbortSignal;
  /** The whole body as Node's server read it (null: none). */
  readonly bufferedBody: Buffer<ArrayBuffer> | null;

  constructor(init: { rawHeaders: readonly string[]; body: Buffer<ArrayBuffer> | null; signal: AbortSignal }) {
    this.headers = new RawHeaders(init.rawHeaders);
    this.bufferedBody = init.body;
    this.signal = init.signal;
  }

  /** The body as a web stream, for a reader that wants one (the handlers read `bufferedBody`). */
  get body(): ReadableStream<Uint8Array> | null {
    return this.bufferedBody ? new Response(this.bufferedBody).body : null;
  }
}
