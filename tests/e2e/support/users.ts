import type { TRole } from "@/lib/auth/permissions";

// Test-only credentials for the run's own throwaway database.
export const E2E_PASSWORD = "e2e-correct-horse-battery";
export const e2eEmail = (role: TRole) => `${role}@e2e.tether.test`;
