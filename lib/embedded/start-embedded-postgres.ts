// Embedded Postgres for the zero-configuration start: PGlite (Postgres compiled to WASM,
// files under the data folder) served on a loopback port with the Postgres wire protocol,
// so the console connects to it exactly as to a real server.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import path from "node:path";
import { DataDirError } from "./data-dir";
import { findFreePort } from "./ports";

export type TEmbeddedPostgres = { connectionString: string; stop(): Promise<void> };

export async function startEmbeddedPostgres(dataDir: string): Promise<TEmbeddedPostgres> {
  const dbDir = path.join(dataDir, "pg");
  let db: PGlite;
  try {
    db = await PGlite.create({
      dataDir: dbDir,
      // Postgres touches its whole buffer pool at start; PGlite's default (128 MB) is most of
      // the embedded console's memory. The demo's working set fits in a fraction of it.
      postgresqlconf: ["shared_buffers=32MB", "wal_buffers=1MB", "temp_buffers=2MB"],
    });
    await db.query("SELECT 1");
  } catch (err) {
    const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new DataDirError(
      `The embedded database in ${dbDir} could not be opened (${detail}). Nothing was changed; move that folder away to start with a fresh database.`,
    );
  }
  const port = await findFreePort("127.0.0.1");
  // More than one connection is required: Prisma's pool opens several.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 32 });
  await server.start();
  return {
    connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
    },
  };
}
