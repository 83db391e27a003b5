import { expect, type Page } from "@playwright/test";
import pg from "pg";
import type { TRole } from "@/lib/auth/permissions";
import { E2E_PASSWORD, e2eEmail } from "./users";

export const baseUrl = () => process.env.E2E_BASE_URL!;

export async function signIn(page: Page, role: TRole, password = E2E_PASSWORD) {
  await page.goto(`${baseUrl()}/signin`);
  await page.getByLabel("Email").fill(e2eEmail(role));
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
}

/** Reads the run's own database directly, to check what the UI did. */
export async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
