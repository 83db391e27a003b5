// Per test file: expose the run's database as DATABASE_URL, where lib/env.ts (and getPrisma) read it.
import { inject } from "vitest";
import { resetEnvCache } from "@/lib/env";

process.env.DATABASE_URL = inject("databaseUrl");
resetEnvCache();
