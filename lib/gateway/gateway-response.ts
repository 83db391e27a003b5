import "server-only";

// The gateway's answers as web Responses (what the route handlers return, and what Next.js and the
// tests read), whose body exists first as a plain string or a pull source: Node's server
// (serve-node-request.ts) writes that straight to the socket, and a web body (a ReadableStream)
// is only built when someone reads the Response the web way. Building the stream, and a Response
// around it, for every relayed poll cost about as much as the gateway's own checks.

/** A body produced one chunk at a time; `next` resolves null at the end and never rejects. */
export type TBodySource = { next(): Promise<string | null>; cancel(): void };

export type TGatewayContent = { kind: "text"; text: string } | { kind: "stream"; source: TBodySource } | { kind: "empty" };

const encoder = new TextEncoder();

function streamOf(source: TBodySource): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await source.next();
      if (chunk === null) controller.close();
      else controller.enqueue(encoder.encode(chunk));
    },
    cancel() {
      source.cancel();
    },
  });
}

export class GatewayResponse extends Response {
  readonly content: TGatewayContent;
  /** The headers as given (lower-case names): what Node's server writes, with no Headers object built. */
  readonly headerRecord: Readonly<Record<string, string>>;
  #headers: Headers | null = null;
  #web: Response | null = null;
  #claimed = false;

  constructor(content: TGatewayContent, init: { status: number; headers: Record<string, string> }) {
    super(null, { status: init.status });
    this.content = content;
    this.headerRecord = init.headers;
  }

  /** `headers`, the web way: built on first read (see below). */
  webHeaders(): Headers {
    this.#headers ??= new Headers(this.headerRecord);
    return this.#headers;
  }

  /** Hands the content to a writer that does not go through the web body (once; null if the body was read already). */
  claim(): TGatewayContent | null {
    if (this.#claimed || this.#web) return null;
    this.#claimed = true;
    return this.content;
  }

  /** `body`, the web way (see below). */
  webBody(): ReadableStream<Uint8Array> | null {
    return this.content.kind === "empty" ? null : this.#asWeb().body;
  }

  isBodyUsed(): boolean {
    return this.#claimed || (this.#web?.bodyUsed ?? false);
  }

  /** The same answer as an ordinary Response, built on first use. */
  #asWeb(): Response {
    if (!this.#web) {
      if (this.#claimed) throw new TypeError("The body of this response was already sent.");
      const c = this.content;
      const body = c.kind === "text" ? c.text : c.kind === "stream" ? streamOf(c.source) : null;
      this.#web = new Response(body, { status: this.status, statusText: this.statusText, headers: this.webHeaders() });
    }
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
  override clone(): Response {
    return this.#asWeb().clone();
  }
}

// `headers`, `body` and `bodyUsed` are accessors on Response.prototype; TypeScript declares them
// as properties, so they are redefined here rather than in the class body.
Object.defineProperties(GatewayResponse.prototype, {
  headers: {
    configurable: true,
    enumerable: true,
    get(this: GatewayResponse) {
      return this.webHeaders();
    },
  },
  body: {
    configurable: true,
    enumerable: true,
    get(this: GatewayResponse) {
      return this.webBody();
    },
  },
  bodyUsed: {
    configurable: true,
    enumerable: true,
    get(this: GatewayResponse) {
      return this.isBodyUsed();
    },
  },
});
