import type { Prisma } from "./generated/client";

/** A Prisma interactive transaction. Use cases that must write audit rows take one of these. */
export type TTx = Prisma.TransactionClient;
