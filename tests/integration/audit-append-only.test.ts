// audit_event is append-only in the database itself (triggers from the init migration), so no
// code path, raw SQL included, can rewrite or erase the audit trail.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "@/lib/db/client";

// As the owner: the application role is refused by privileges before the triggers are reached
// (tests/integration/audit-chain.test.ts covers that); this file proves the triggers.
const prisma = createPrismaClient(process.env.DATABASE_URL!);

afterAll(async () => {
  await prisma.$disconnect();
});

async function insertAuditEvent() {
  return prisma.auditEvent.create({
    data: {
      actorType: "system",
      action: `test.append_only.${randomUUID()}`,
      outcome: "ok",
      payload: { purpose: "append-only check" },
    },
  });
}

describe("audit_event", () => {
  it("accepts inserts through Prisma", async () => {
    const event = await insertAuditEvent();

    const stored = await prisma.auditEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(stored.action).toBe(event.action);
    expect(stored.payload).toEqual({ purpose: "append-only check" });
  });

  it("refuses UPDATE", async () => {
    const event = await insertAuditEvent();

    await expect(
      prisma.$executeRaw`UPDATE audit_event SET outcome = 'denied', reason = 'tampered' WHERE id = ${event.id}::uuid`,
    ).rejects.toThrow(/audit_event is append-only/);

    const stored = await prisma.auditEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(stored).toEqual(event);
  });

  it("refuses DELETE", async () => {
    const event = await insertAuditEvent();

    await expect(prisma.$executeRaw`DELETE FROM audit_event WHERE id = ${event.id}::uuid`).rejects.toThrow(
      /audit_event is append-only/,
    );

    expect(await prisma.auditEvent.count({ where: { id: event.id } })).toBe(1);
  });

  it("refuses TRUNCATE", async () => {
    const event = await insertAuditEvent();

    // CASCADE: audit_chain references audit_event; without it the foreign key refuses first.
    await expect(prisma.$executeRawUnsafe("TRUNCATE audit_event CASCADE")).rejects.toThrow(/audit_event is append-only/);

    expect(await prisma.auditEvent.count({ where: { id: event.id } })).toBe(1);
  });

  it("refuses changes made through the Prisma API as well", async () => {
    const event = await insertAuditEvent();

    await expect(prisma.auditEvent.update({ where: { id: event.id }, data: { reason: "tampered" } })).rejects.toThrow(
      /audit_event is append-only/,
    );
    await expect(prisma.auditEvent.deleteMany({ where: { id: event.id } })).rejects.toThrow(
      /audit_event is append-only/,
    );
  });
});
