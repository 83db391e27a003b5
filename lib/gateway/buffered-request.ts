import "server-only";

// An agent's request as the gateway's handlers take it (a web Request), built by Node's server
// (serve-node-request.ts) from a body it has read already: the handlers read that Buffer as it is
// (gateway-http.ts readBodyWithLimit), and the signal is the one Node's server aborts when the
// agent goes away. A web body (a ReadableStream) is only built if someone reads it the web way;
// building one for every poll, and a signal following another, cost more than the poll's checks.

export class BufferedRequest extends Request {
  readonly #body: Buffer<ArrayBuffer> | null;
  readonly #signal: AbortSignal;
  #web: Request | null = null;

  constructor(url: string, init: { method: string; headers: Headers; body: Buffer<ArrayBuffer> | null; signal: AbortSignal }) {
    super(url, { method: init.method, headers: init.headers });
    this.#body = init.body;
    this.#signal = init.signal;
  }

  /** The whole body as Node's server read it (null: none). */
  get bufferedBody(): Buffer<ArrayBuffer> | null {
    return this.#body;
  }

  webSignal(): AbortSignal {
    return this.#signal;
  }

  webBody(): ReadableStream<Uint8Array> | null {
    return this.#body ? this.#asWeb().body : null;
  }

  #asWeb(): Request {
    this.#web ??= new Request(this.url, { method: this.method, headers: this.headers, signal: this.#signal, ...(this.#body ? { body: this.#body } : {}) });
    return this.#web;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#asWeb().arrayBuffer();
  }
  override blob(): Promise<Blob> {
    return this.#asWeb().blob();
  }
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#asWeb().bytes();
  }
  override formData(): Promise<FormData> {
    return this.#asWeb().formData();
  }
  override json(): Promise<unknown> {
    return this.#asWeb().json();
  }
  override text(): Promise<string> {
    return this.#asWeb().text();
  }
  override clone(): Request {
    return this.#asWeb().clone();
  }
}

// Accessors on Request.prototype that TypeScript declares as properties: redefined here.
Object.defineProperties(BufferedRequest.prototype, {
  signal: {
    configurable: true,
    enumerable: true,
    get(this: BufferedRequest) {
      return this.webSignal();
    },
  },
  body: {
    configurable: true,
    enumerable: true,
    get(this: BufferedRequest) {
      return this.webBody();
    },
  },
});
