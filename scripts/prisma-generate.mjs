// npm postinstall and `npm run db:generate`: generate the Prisma client (lib/db/generated) offline.
// Plain Node ESM on purpose: it runs right after `npm ci`, before anything could compile TypeScript.
//
// `prisma generate` does not use the schema engine, but the CLI resolves (and would otherwise
// download) its binary first. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing executable
// skips that, so generation works without internet; migrations go through the WebAssembly
// engine in lib/db/schema-engine.ts instead.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schemaPath = path.join(root, "prisma", "schema.prisma");

// A checkout without a schema (or a package consumer) has nothing to generate; failing here
// would fail the whole install.
if (!existsSync(schemaPath)) process.exit(0);

let cliPath;
try {
  cliPath = createRequire(path.join(root, "package.json")).resolve("prisma/build/index.js");
} catch {
  console.error("prisma-generate: the prisma package is not installed; run `npm ci` first.");
  process.exit(1);
}

const result = spawnSync(process.execPath, [cliPath, "generate", "--schema", schemaPath], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    // Prisma's telemetry and update check ("checkpoint"); also a network call that cannot succeed offline.
    CHECKPOINT_DISABLE: "1",
  },
});

if (result.error) {
  console.error(`prisma-generate: could not run the prisma CLI: ${result.error.message}`);
  process.exit(1);
}
// A signal-terminated child has no status; report failure rather than success.
process.exit(result.status ?? 1);
