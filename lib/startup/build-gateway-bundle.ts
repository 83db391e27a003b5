import path from "node:path";
import { build } from "esbuild";

// The gateway process's code as one plain ES module (under .next/, built by the console server
// at each production start in about 0.2 s): Tether's own TypeScript bundled, packages left to
// node_modules. Run by plain Node instead of through tsx, whose transform keeps every function's
// name by wrapping each closure in a defineProperty call (esbuild's keepNames): a poll creates
// dozens of closures, and that alone was about 3 % of the gateway process's CPU profile.

export async function buildGatewayBundle(root: string): Promise<string> {
  const outfile = path.join(root, ".next", "tether-gateway", "gateway-server.mjs");
  await build({
    entryPoints: [path.join(root, "scripts", "gateway-server.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    conditions: ["react-server"],
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "silent",
    legalComments: "none",
  });
  return outfile;
}

/**
 * Node flags for the gateway process: the console server's own (conditions, a bench's
 * --cpu-prof), without a debugger's port, and without tsx when it runs the bundle.
 */
export function gatewayExecArgv(parent: readonly string[], bundled: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const flag = parent[i]!;
    if (flag.startsWith("--inspect")) continue;
    if (bundled && flag === "--import" && parent[i + 1] === "tsx") {
      i++;
      continue;
    }
    if (bundled && flag === "--import=tsx") continue;
    out.push(flag);
  }
  return out;
}
