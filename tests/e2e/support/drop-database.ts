// Run by the e2e teardown under tsx: drops the database prepare-database.ts created.
import { dropTestDatabase } from "@/lib/db/test-database";

const name = process.argv[2];
if (!name) throw new Error("usage: drop-database.ts <name>");
await dropTestDatabase(name);
