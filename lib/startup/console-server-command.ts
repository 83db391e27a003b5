// How every launcher starts the console's HTTP server (scripts/serve.ts: the gateway on Node's
// HTTP server, everything else through Next.js): `npm start`, the end-to-end tests and the
// benchmarks run exactly the same thing.
import path from "node:path";

/** Node arguments for the console server on `host:port`; `nodeArgs` go first (e.g. `--cpu-prof`). */
export function consoleServerArgs(root: string, input: { port: number; host: string; dev?: boolean; nodeArgs?: string[] }): string[] {
  return [
    ...(input.nodeArgs ?? []),
    "--conditions=react-server",
    "--import",
    "tsx",
    path.join(root, "scripts", "serve.ts"),
    "-p",
    String(input.port),
    "-H",
    input.host,
    ...(input.dev ? ["--dev"] : []),
  ];
}
