// Every environment variable Tether reads, parsed once through one zod schema.
// The README's configuration table mirrors this file; keep them in step.
import { z } from "zod";

const ZBool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const ZSecret = (name: string) =>
  z
    .string()
    .min(32, `${name} must be at least 32 characters (use \`openssl rand -base64 48\`)`);

export const ZEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** Postgres connection string. Unset: `npm start` runs the embedded database under TETHER_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Where embedded mode keeps its database, secrets and signing key. */
  TETHER_DATA_DIR: z.string().default(".data"),
  /** Role the application switches to on every connection (SET ROLE); "none" keeps the login role. */
  TETHER_DB_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "TETHER_DB_ROLE must be a plain role name")
    .default("tether_app")
    .transform((v) => (v === "none" ? "" : v)),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Interface the console listens on. */
  HOST: z.string().default("127.0.0.1"),
  /** Public base URL of the console (cookies, OIDC redirect). Defaults to http://HOST:PORT. */
  TETHER_PUBLIC_URL: z.string().url().optional(),
  /** Signs console session cookies (next-auth). */
  TETHER_SESSION_SECRET: ZSecret("TETHER_SESSION_SECRET").optional(),
  /** Keys the HMAC-SHA256 of handle tokens, API keys and audit secret references. */
  TETHER_HMAC_KEY: ZSecret("TETHER_HMAC_KEY").optional(),
  /** 32 bytes, base64: AES-256-GCM key for upstream task ids and upstream credentials. */
  TETHER_ENCRYPTION_KEY: z.string().optional(),
  /** Ed25519 private key (PKCS#8 PEM; `\n` escapes allowed) that signs audit checkpoints. Generated in embedded mode. */
  TETHER_AUDIT_SIGNING_KEY: z.string().optional(),
  /** Earlier checkpoint public keys (PEM blocks) still trusted after a key rotation. */
  TETHER_AUDIT_PREVIOUS_PUBLIC_KEYS: z.string().optional(),
  /** Sign a checkpoint after this many newly sealed audit events… */
  TETHER_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
  /** …or when the chain head is unsigned and the last checkpoint is this old. */
  TETHER_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).default(60),
  /** How often the sealer links newly committed audit events into the chain. */
  TETHER_AUDIT_SEAL_INTERVAL_MS: z.coerce.number().int().min(20).max(1000).default(200),
  /** Full chain verification every N minutes (0 = only on demand). */
  TETHER_AUDIT_VERIFY_MINUTES: z.coerce.number().min(0).default(60),
  /** Run the background workers (audit sealer, verification) in this process. */
  TETHER_WORKERS: ZBool.default(true),
  /** Console session lifetime in hours. */
  TETHER_SESSION_MAX_AGE_HOURS: z.coerce.number().positive().max(24 * 30).default(8),
  /** Failed sign-ins allowed per account and per client address in one window. */
  TETHER_SIGNIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  TETHER_SIGNIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /** Generic OpenID Connect provider; enabled when issuer, client id and secret are set. */
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_DISPLAY_NAME: z.string().default("Single sign-on"),
  /** Claim holding the role or the groups (string or array). */
  OIDC_ROLE_CLAIM: z.string().default("groups"),
  /** `group=role` pairs, comma separated, e.g. `sec-team=reviewer,tether-admins=admin`. A claim value equal to a role name maps to it. */
  OIDC_ROLE_MAP: z.string().default(""),
  /** Role for OIDC users whose claim maps to nothing; empty refuses them. */
  OIDC_DEFAULT_ROLE: z.enum(["admin", "reviewer", "support", "auditor", "viewer", ""]).default(""),
  /** Set by `npm start` when DATABASE_URL points at its embedded database (internal). */
  TETHER_EMBEDDED: ZBool.default(false),
  /** Print demo credentials and seed demo data (set by `npm start` in embedded mode). */
  TETHER_DEMO: ZBool.default(false),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Largest JSON-RPC body the gateway accepts from an agent, in bytes. */
  TETHER_GATEWAY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** How long the gateway waits for an upstream answer before telling the agent it is unreachable. */
  TETHER_GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * Keep the gateway's view of API keys, servers, sessions, handles and the policy in memory,
   * invalidated through Postgres LISTEN/NOTIFY (off with the embedded database, which cannot
   * deliver notifications between processes). false: every call reads Postgres.
   */
  TETHER_GATEWAY_CACHE: ZBool.default(true),
  /**
   * Serve /mcp/{server} from a process of its own beside Next.js (same port; scripts/serve.ts
   * hands agents' connections to it). `false`: one process serves everything. Not under --dev.
   */
  TETHER_GATEWAY_PROCESS: ZBool.default(true),
  /**
   * Reverse proxies of the operator's own in front of the console: how many X-Forwarded-For
   * entries (from the right) to believe. 0: the client's address is the socket's peer.
   */
  TETHER_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** `tasks/*` calls one principal may make per minute at the gateway (all instances together). */
  TETHER_GATEWAY_TASKS_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
  /** Unknown-task answers to one principal within 5 minutes that raise a `gateway.enumeration_suspected` audit event. */
  TETHER_GATEWAY_ENUMERATION_THRESHOLD: z.coerce.number().int().min(1).default(20),
  /** OpenID issuer whose JWTs agents may present at the gateway instead of an API key (unset: API keys only). */
  TETHER_AGENT_OIDC_ISSUER: z.string().url().optional(),
  /** Audience those JWTs must carry; defaults to `<TETHER_PUBLIC_URL>/mcp`. */
  TETHER_AGENT_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** JWKS location; defaults to the issuer's discovery document's `jwks_uri`. */
  TETHER_AGENT_OIDC_JWKS_URL: z.string().url().optional(),
  /** How often the health worker checks each enabled upstream server (initialize round trip). */
  TETHER_SERVER_HEALTH_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
  /** How long a connection check (on save, and each health check) waits for the upstream. */
  TETHER_SERVER_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Bearer token a Prometheus scraper presents at /api/metrics (unset: only signed-in admins and auditors, or their API keys). */
  TETHER_METRICS_TOKEN: ZSecret("TETHER_METRICS_TOKEN").optional(),
  /** A bulk revoke or cancel of more handles than this needs a second reviewer's or admin's approval (two-person rule). */
  TETHER_BULK_APPROVAL_THRESHOLD: z.coerce.number().int().min(0).default(100),
  /** Start the bundled demo upstream MCP server in embedded mode. */
  TETHER_DEMO_UPSTREAM_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
});

export type TEnv = z.infer<typeof ZEnv>;

let cached: TEnv | undefined;

export function getEnv(): TEnv {
  if (cached) return cached;
  // An empty variable (`DATABASE_URL= npm start`) means "unset", as in most shells' habits.
  const present = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ZEnv.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  cached = parsed.data;
  return cached;
}

/** Test hook: environment changed (for scripts that set variables before use). */
export function resetEnvCache(): void {
  cached = undefined;
}

export function requireSecret(name: "TETHER_SESSION_SECRET" | "TETHER_HMAC_KEY" | "TETHER_ENCRYPTION_KEY"): string {
  const value = getEnv()[name];
  if (!value) throw new Error(`${name} is not set. Set it in the environment (embedded mode generates it into ${getEnv().TETHER_DATA_DIR}).`);
  return value;
}
