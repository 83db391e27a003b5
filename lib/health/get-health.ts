import "server-only";
import { getPrisma } from "@/lib/db/client";
import { TETHER_VERSION } from "@/lib/version";

export type THealth = { status: "ok" | "degraded"; db: "up" | "down"; version: string };

/** Liveness of the console and its database. Says nothing about configuration or data. */
export async function getHealth(): Promise<THealth> {
  try {
    await Promise.race([
      getPrisma().$queryRaw`SELECT 1`,
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2_000).unref()),
    ]);
    return { status: "ok", db: "up", version: TETHER_VERSION };
  } catch {
    return { status: "degraded", db: "down", version: TETHER_VERSION };
  }
}
