// GET /api/metrics: Prometheus text for a scraper holding TETHER_METRICS_TOKEN or an auditor or
// admin (here through their agents' API keys); 401 without credentials, 403 for other roles.
import { randomBytes } from "node:crypto";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { GET as getMetrics } from "@/app/api/metrics/route";
import type { TRole } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db/client";
import { metrics } from "@/lib/metrics/registry";
import { actorFor, createPrincipal } from "../factories/principals";
import { setUpEnv, setUpTestSecrets } from "./support/env";
import { createAgent } from "./support/gateway";

setUpTestSecrets();
const METRICS_TOKEN = randomBytes(32).toString("base64url");
setUpEnv(() => ({ TETHER_METRICS_TOKEN: METRICS_TOKEN }));

const noParams = { params: Promise.resolve({}) } as { params: Promise<Record<string, never>> };
const scrape = (authorization?: string) =>
  getMetrics(new NextRequest("http://tether.test/api/metrics", { headers: authorization ? { authorization } : {} }), noParams);

async function agentKey(role: TRole): Promise<string> {
  const admin = actorFor(await createPrincipal(getPrisma(), { role: "admin" }));
  const agent = await createAgent(admin);
  await getPrisma().principal.update({ where: { id: agent.principalId }, data: { role } });
  return agent.apiKey;
}

describe("GET /api/metrics", () => {
  it("serves the exposition to a scraper with the metrics token", async () => {
    metrics().handleDenials.inc({ cause: "principal_mismatch" });
    const res = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const name of ["tether_live_handles{status=\"working\"}", "tether_audit_events_total", "tether_audit_sealing_lag_seconds", "tether_poll_lag_p95_seconds", "tether_servers{health=\"up\"}"]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/tether_gateway_denials_total\{cause="principal_mismatch"\} [1-9]/);
  });

  it("serves it to an auditor's credentials and refuses a viewer's with 403", async () => {
    expect((await scrape(`Bearer ${await agentKey("auditor")}`)).status).toBe(200);
    const viewer = await scrape(`Bearer ${await agentKey("viewer")}`);
    expect(viewer.status).toBe(403);
  });

  it("refuses a wrong token and a bad API key with 401", async () => {
    expect((await scrape(`Bearer ${randomBytes(32).toString("base64url")}`)).status).toBe(401);
    expect((await scrape(`Bearer tth_00000000_${randomBytes(32).toString("base64url")}`)).status).toBe(401);
  });
});
