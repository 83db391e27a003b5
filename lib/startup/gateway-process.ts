import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { TGatewayPeer } from "@/lib/gateway/gateway-peer";

// The MCP gateway's own process, seen from the console server (scripts/serve.ts). Next.js
// patches process-wide machinery (process.nextTick, setImmediate, Date, async context tracking on
// every promise) that an agent's poll pays for although it never touches Next: measured on
// bench:gateway, the same gateway code in a process without Next relays a third more polls on
// the same cores. So the console server forks scripts/gateway-server.ts and hands it the
// connections whose first request is for /mcp/… (route-connection.ts); its own copy of the
// gateway stays the fallback while the child starts or restarts. Over the IPC channel the parent
// also asks the child to settle its gateway cache (a revocation committed by the console is in
// force at the gateway's very next call) and for its counters (/api/metrics).

export type TGatewayProcessOptions = {
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  /** Where the child sends the console requests that arrive on a connection it was handed. */
  consoleUrl: string;
  log(line: string): void;
};

type TReply = { type: "settled" | "metrics"; id: string; json?: unknown[] };

const SETTLE_TIMEOUT_MS = 3_000;
const METRICS_TIMEOUT_MS = 2_000;
const MAX_RESTART_DELAY_MS = 30_000;

export class GatewayProcess implements TGatewayPeer {
  readonly #options: TGatewayProcessOptions;
  #child: ChildProcess | null = null;
  #ready = false;
  #stopping = false;
  #restartDelay = 500;
  #readyWaiters: Array<() => void> = [];
  readonly #pending = new Map<string, (reply: TReply | null) => void>();

  constructor(options: TGatewayProcessOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#stopping) return;
    const child = fork(this.#options.script, [], {
      execArgv: this.#options.execArgv,
      env: { ...this.#options.env, TETHER_CONSOLE_INTERNAL_URL: this.#options.consoleUrl },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child = child;
    child.on("message", (message: { type?: string; id?: string; json?: unknown[] }) => {
      if (message.type === "ready") {
        this.#ready = true;
        this.#restartDelay = 500;
        for (const resolve of this.#readyWaiters.splice(0)) resolve();
      } else if ((message.type === "settled" || message.type === "metrics") && typeof message.id === "string") {
        this.#pending.get(message.id)?.(message as TReply);
      }
    });
    child.on("error", (err) => this.#options.log(`The gateway process failed: ${err.message}`));
    child.once("exit", (code, signal) => {
      if (this.#child === child) {
        this.#child = null;
        this.#ready = false;
      }
      for (const resolve of this.#pending.values()) resolve(null);
      if (this.#stopping) return;
      this.#options.log(`The gateway process exited (${signal ?? `code ${code}`}); this process serves /mcp until it is back.`);
      const delay = this.#restartDelay;
      this.#restartDelay = Math.min(this.#restartDelay * 2, MAX_RESTART_DELAY_MS);
      setTimeout(() => this.start(), delay).unref();
    });
  }

  /** Resolves true once the child takes connections (false after `timeoutMs`). */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** The child's pid (null while none runs). */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** True while the child takes connections. */
  get ready(): boolean {
    return this.#ready && this.#child?.connected === true;
  }

  /**
   * Hands a connection (and the bytes already read from it) to the child; false when it cannot
   * take it now (the caller serves it). After true the socket belongs to the child.
   */
  offer(socket: Socket, head: Buffer): boolean {
    const child = this.#child;
    if (!this.ready || !child) return false;
    try {
      child.send({ type: "connection", head: head.toString("base64") }, socket, { keepOpen: false }, (err) => {
        if (err) socket.destroy();
      });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The child has applied every cache notification committed before now. A child that does not
   * confirm in time is killed (its cache dies with it) rather than trusted; it is started again.
   */
  async settle(): Promise<void> {
    await this.settleConfirmed();
  }

  /** settle(), telling whether the child confirmed it (false: none was running, or it was killed). */
  async settleConfirmed(): Promise<boolean> {
    // A child that is not ready yet has served no call, so it has cached nothing to settle.
    if (!this.ready) return false;
    const reply = await this.#ask("settle", SETTLE_TIMEOUT_MS);
    if (reply === null && this.#child) {
      this.#options.log("The gateway process did not confirm a cache settle in time; restarting it so that no stale entry can serve a call.");
      this.#child.kill("SIGKILL");
    }
    return reply !== null;
  }

  async metricsJson(): Promise<unknown[] | null> {
    const reply = await this.#ask("metrics", METRICS_TIMEOUT_MS);
    return reply?.json ?? null;
  }

  /** Stops the child and waits for it (it flushes its buffered use counts first). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  #ask(type: "settle" | "metrics", timeoutMs: number): Promise<TReply | null> {
    const child = this.#child;
    if (!child?.connected) return Promise.resolve(null);
    const id = randomUUID();
    return new Promise<TReply | null>((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (reply: TReply | null) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      };
      this.#pending.set(id, done);
      try {
        child.send({ type, id }, (err) => {
          if (err) done(null);
        });
      } catch {
        done(null);
      }
    });
  }
}
