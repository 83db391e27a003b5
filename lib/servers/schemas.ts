// The server registry: inputs, the connection-check result, and the DTOs any page or API
// response may show. DTOs are parsed through their schema, so the credentials envelope can
// never leak by accident: no DTO has a field for it, only whether one is set.
import { z } from "zod";

export const SERVER_HEALTH = ["unknown", "up", "degraded", "down"] as const;
export type TServerHealth = (typeof SERVER_HEALTH)[number];

export const TASK_WIRES = ["core_2025_11_25", "ext_2026_07_28"] as const;
export type TTaskWire = (typeof TASK_WIRES)[number];

export const TASK_WIRE_LABELS: Record<TTaskWire, string> = {
  core_2025_11_25: "core 2025-11-25",
  ext_2026_07_28: "extension 2026-07-28",
};

/** The extension id of the 2026-07-28 Tasks extension (SEP-2663). */
export const TASKS_EXTENSION_ID = "io.modelcontextprotocol/tasks";

/**
 * Why a connection check failed, exactly. `no_task_support` is the one class where the server
 * answered as a working MCP server: it just offers nothing Tether governs.
 */
export const PROBE_PROBLEMS = [
  "unreachable",
  "tls_error",
  "timeout",
  "credentials_refused",
  "not_mcp",
  "server_error",
  "protocol_error",
  "no_task_support",
  "credentials_unreadable",
  "oauth_token_error",
] as const;
export type TProbeProblem = (typeof PROBE_PROBLEMS)[number];

export const PROBE_PROBLEM_LABELS: Record<TProbeProblem, string> = {
  unreachable: "Unreachable",
  tls_error: "TLS error",
  timeout: "Timed out",
  credentials_refused: "Credentials refused",
  not_mcp: "Not an MCP server",
  server_error: "Server error",
  protocol_error: "MCP handshake failed",
  no_task_support: "No task support",
  credentials_unreadable: "Stored credentials unreadable",
  oauth_token_error: "OAuth token request failed",
};

export const TOOL_TASK_SUPPORT = ["forbidden", "optional", "required"] as const;

/** `unreadable`: stored, but Tether cannot decrypt them (TETHER_ENCRYPTION_KEY changed?). */
export const CREDENTIAL_KINDS = ["none", "bearer", "oauth_client_credentials", "unreadable"] as const;
export type TCredentialKind = (typeof CREDENTIAL_KINDS)[number];

export const REMOVE_HANDLING = ["revoke_all", "keep_orphans"] as const;
export type TRemoveHandling = (typeof REMOVE_HANDLING)[number];

export const POLL_MS_MIN = 100;
export const POLL_MS_MAX = 3_600_000;
export const POLL_CONCURRENCY_MAX = 256;
export const MAX_TAGS = 20;

// ---- inputs --------------------------------------------------------------------------------

const ZReason = z
  .string({ message: "Give a reason (at least 3 characters)." })
  .trim()
  .min(3, "Give a reason (at least 3 characters).")
  .max(500, "A reason has at most 500 characters.");

export const ZServerId = z.string({ message: "Unknown server." }).uuid("Unknown server.");

/** Part of the gateway URL (/mcp/{slug}) and of the credentials' encryption context: fixed at creation. */
export const ZSlug = z
  .string({ message: "Enter a slug." })
  .trim()
  .min(1, "Enter a slug.")
  .max(63, "A slug has at most 63 characters.")
  .regex(/^[a-z0-9][a-z0-9-]*$/, "Use lower-case letters, digits and hyphens, starting with a letter or digit.");

const ZName = z.string({ message: "Enter a name." }).trim().min(1, "Enter a name.").max(120, "A name has at most 120 characters.");

function httpUrl(what: string) {
  return z
    .string({ message: `Enter the ${what}.` })
    .trim()
    .min(1, `Enter the ${what}.`)
    .max(2048, `The ${what} has at most 2048 characters.`)
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
      } catch {
        return false;
      }
    }, `Enter an http:// or https:// URL.`);
}

// The URL is shown in the console and recorded in the audit trail: credentials belong in the
// token field, where they are encrypted, never in the URL.
export const ZServerUrl = httpUrl("server URL").refine((v) => {
  // Zod runs this check even when the ones above failed: a value that is no URL passes here.
  if (!URL.canParse(v)) return true;
  const u = new URL(v);
  return u.username === "" && u.password === "";
}, "Put credentials in the bearer token field, not in the URL.");

export const ZAudience = httpUrl("audience URI");

const ZBearerToken = z
  .string({ message: "Enter the bearer token." })
  .trim()
  .min(1, "Enter the bearer token.")
  .max(4096, "A bearer token has at most 4096 characters.")
  .regex(/^[\x21-\x7e]+$/, "A bearer token is printable ASCII without spaces.");

// OAuth 2.0 client credentials (RFC 6749 §4.4): Tether asks the token endpoint for an access
// token with the client's id and secret and sends that upstream as a bearer token.

/** An empty field means "none": an optional OAuth setting sent as "" or null is left out. */
function optionalSetting<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null || (typeof v === "string" && v.trim() === "") ? null : v), schema.nullable());
}

const ZTokenUrl = httpUrl("token endpoint URL").refine((v) => {
  if (!URL.canParse(v)) return true;
  const u = new URL(v);
  return u.username === "" && u.password === "" && u.hash === "";
}, "Enter the token endpoint URL without credentials or a #fragment (the client secret goes in its own field).");

const ZClientId = z
  .string({ message: "Enter the client ID." })
  .trim()
  .min(1, "Enter the client ID.")
  .max(255, "A client ID has at most 255 characters.")
  .regex(/^[\x20-\x7e]+$/, "A client ID is printable ASCII.");

const ZClientSecret = z
  .string({ message: "Enter the client secret." })
  .trim()
  .min(1, "Enter the client secret.")
  .max(4096, "A client secret has at most 4096 characters.")
  .regex(/^[\x20-\x7e]+$/, "A client secret is printable ASCII.");

/** Space-separated scope tokens (RFC 6749 §3.3); runs of whitespace become one space. */
const ZScope = z
  .string({ message: "The scope is text: space-separated scope names." })
  .transform((v) => v.trim().split(/\s+/).join(" "))
  .pipe(
    z
      .string()
      .max(1024, "The scope has at most 1024 characters.")
      .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, "Scope names are printable ASCII without quotes or backslashes, separated by spaces."),
  );

/** RFC 8707 resource indicator: an absolute URI without a fragment. */
const ZResource = z
  .string({ message: "The resource is an absolute URI." })
  .trim()
  .max(2048, "The resource has at most 2048 characters.")
  .refine((v) => URL.canParse(v) && !v.includes("#"), "The resource is an absolute URI without a #fragment (RFC 8707), e.g. https://mcp.example.com/mcp.");

/** The `audience` parameter some providers use instead of `resource` (Auth0, Okta, Keycloak token exchange). */
const ZOAuthAudience = z
  .string({ message: "The audience is text." })
  .trim()
  .max(1024, "The audience has at most 1024 characters.")
  .regex(/^[\x21-\x7e]+$/, "The audience is printable ASCII without spaces.");

/** New OAuth client credentials, complete. */
export const ZOAuthCredentialsInput = z
  .object(
    {
      tokenUrl: ZTokenUrl,
      clientId: ZClientId,
      clientSecret: ZClientSecret,
      scope: optionalSetting(ZScope).optional(),
      resource: optionalSetting(ZResource).optional(),
      audience: optionalSetting(ZOAuthAudience).optional(),
    },
    { message: "oauth is an object: tokenUrl, clientId, clientSecret, scope?, resource?, audience?." },
  )
  .strict();

/**
 * A change to OAuth client credentials: what is left out keeps its stored value (the secret
 * above all: the form never receives it); null or "" removes an optional setting.
 */
export const ZOAuthCredentialsPatch = z
  .object(
    {
      tokenUrl: ZTokenUrl.optional(),
      clientId: ZClientId.optional(),
      clientSecret: ZClientSecret.optional(),
      scope: optionalSetting(ZScope).optional(),
      resource: optionalSetting(ZResource).optional(),
      audience: optionalSetting(ZOAuthAudience).optional(),
    },
    { message: "oauth is an object: tokenUrl?, clientId?, clientSecret?, scope?, resource?, audience?." },
  )
  .strict();
export type TOAuthCredentialsPatch = z.infer<typeof ZOAuthCredentialsPatch>;

const oneCredentialKind = { message: "Choose one kind of credentials: a bearer token or OAuth client credentials.", path: ["oauth"] };

const ZTags = z
  .array(
    z
      .string()
      .trim()
      .min(1, "A tag cannot be empty.")
      .max(40, "A tag has at most 40 characters.")
      .regex(/^[A-Za-z0-9._:-]+$/, "Tags use letters, digits and . _ : -"),
    { message: "Tags are a list of words." },
  )
  .max(MAX_TAGS, `At most ${MAX_TAGS} tags.`)
  .transform((tags) => [...new Set(tags)]);

const ZPollMs = (what: string) =>
  z
    .number({ message: `Enter the ${what} in milliseconds.` })
    .int(`The ${what} is a whole number of milliseconds.`)
    .min(POLL_MS_MIN, `The ${what} is at least ${POLL_MS_MIN} ms.`)
    .max(POLL_MS_MAX, `The ${what} is at most ${POLL_MS_MAX} ms (1 hour).`);

const ZPollConcurrency = z
  .number({ message: "Enter how many polls may run at once." })
  .int("The concurrency cap is a whole number.")
  .min(1, "The concurrency cap is at least 1.")
  .max(POLL_CONCURRENCY_MAX, `The concurrency cap is at most ${POLL_CONCURRENCY_MAX}.`);

const pollOrder = { message: "The minimum poll interval cannot exceed the maximum.", path: ["pollMinMs"] };

export const ZRegisterServerInput = z
  .object({
    name: ZName,
    slug: ZSlug,
    url: ZServerUrl,
    /** Default: `<public URL>/mcp/<slug>`, the gateway address handles are bound to. */
    audience: ZAudience.optional(),
    bearerToken: ZBearerToken.optional(),
    /** OAuth 2.0 client credentials instead of a bearer token. */
    oauth: ZOAuthCredentialsInput.optional(),
    pollMinMs: ZPollMs("minimum poll interval").default(1000),
    pollMaxMs: ZPollMs("maximum poll interval").default(30_000),
    pollConcurrency: ZPollConcurrency.default(8),
    tags: ZTags.default([]),
    /** Save even though the connection check failed; the server is then saved disabled. */
    force: z.boolean({ message: "force is true or false." }).default(false),
  })
  .strict()
  .refine((v) => v.pollMinMs <= v.pollMaxMs, pollOrder)
  .refine((v) => !(v.bearerToken !== undefined && v.oauth !== undefined), oneCredentialKind);
export type TRegisterServerInput = z.input<typeof ZRegisterServerInput>;

export const ZUpdateServerInput = z
  .object({
    serverId: ZServerId,
    // Present only to be refused with a clear message when it differs: slugs never change.
    slug: z.string().optional(),
    name: ZName.optional(),
    url: ZServerUrl.optional(),
    audience: ZAudience.optional(),
    /** A new token replaces the stored one; leave it out to keep it. */
    bearerToken: ZBearerToken.optional(),
    /** OAuth client credentials: changed settings (a new secret, or none to keep the stored one). */
    oauth: ZOAuthCredentialsPatch.optional(),
    clearCredentials: z.boolean({ message: "clearCredentials is true or false." }).optional(),
    pollMinMs: ZPollMs("minimum poll interval").optional(),
    pollMaxMs: ZPollMs("maximum poll interval").optional(),
    pollConcurrency: ZPollConcurrency.optional(),
    tags: ZTags.optional(),
    /** Run the connection check again and record what the server declares now. */
    recheck: z.boolean({ message: "recheck is true or false." }).optional(),
    force: z.boolean({ message: "force is true or false." }).default(false),
  })
  .strict()
  .refine((v) => !(v.bearerToken !== undefined && v.clearCredentials === true), {
    message: "Either set a new token or remove the stored one, not both.",
    path: ["bearerToken"],
  })
  .refine((v) => !(v.oauth !== undefined && v.clearCredentials === true), {
    message: "Either set new credentials or remove the stored ones, not both.",
    path: ["oauth"],
  })
  .refine((v) => !(v.bearerToken !== undefined && v.oauth !== undefined), oneCredentialKind);
export type TUpdateServerInput = z.input<typeof ZUpdateServerInput>;

export const ZSetServerEnabledInput = z
  .object({
    serverId: ZServerId,
    enabled: z.boolean({ message: "Say whether to enable or disable the server." }),
    reason: ZReason.optional(),
    force: z.boolean({ message: "force is true or false." }).default(false),
  })
  .refine((v) => v.enabled || v.reason !== undefined, { message: "Give a reason (at least 3 characters).", path: ["reason"] });

export const ZSetServerPollingInput = z.object({
  serverId: ZServerId,
  paused: z.boolean({ message: "Say whether to pause or resume polling." }),
  reason: ZReason,
});

export const ZRemoveServerInput = z.object({
  serverId: ZServerId,
  /** Required when the server has live handles: revoke them all, or keep them as orphans. */
  handling: z.enum(REMOVE_HANDLING, { message: "Choose what happens to its live handles: revoke_all or keep_orphans." }).optional(),
  reason: ZReason,
});

/**
 * A dry run: a URL and credentials to try, or a registered server (its stored credentials unless
 * others are given; OAuth settings left out keep their stored values).
 */
export const ZProbeServerInput = z
  .object({
    serverId: ZServerId.optional(),
    url: ZServerUrl.optional(),
    bearerToken: ZBearerToken.optional(),
    oauth: ZOAuthCredentialsPatch.optional(),
  })
  .strict()
  .refine((v) => v.url !== undefined || v.serverId !== undefined, { message: "Enter the server URL.", path: ["url"] })
  .refine((v) => !(v.bearerToken !== undefined && v.oauth !== undefined), oneCredentialKind);

// ---- what a server declares ------------------------------------------------------------------

export const ZServerInfo = z.object({ name: z.string(), version: z.string(), title: z.string().nullable() });
export type TServerInfo = z.infer<typeof ZServerInfo>;

/** What Tether records of a server's capabilities: the task parts in detail, the rest as flags. */
export const ZCapabilitySummary = z.object({
  tools: z.boolean(),
  resources: z.boolean(),
  prompts: z.boolean(),
  logging: z.boolean(),
  completions: z.boolean(),
  /** The 2025-11-25 core `tasks` capability, or null when absent. */
  tasks: z.object({ list: z.boolean(), cancel: z.boolean(), toolsCall: z.boolean() }).nullable(),
  /** Extension ids declared under `capabilities.extensions` (and `experimental`). */
  extensions: z.array(z.string()),
});
export type TCapabilitySummary = z.infer<typeof ZCapabilitySummary>;

export const ZToolSummary = z.object({
  name: z.string(),
  title: z.string().nullable(),
  description: z.string().nullable(),
  taskSupport: z.enum(TOOL_TASK_SUPPORT),
});
export type TToolSummary = z.infer<typeof ZToolSummary>;

/** What a successful handshake showed. */
export const ZProbeDetails = z.object({
  serverInfo: ZServerInfo,
  protocolVersion: z.string(),
  capabilities: ZCapabilitySummary,
  taskWires: z.array(z.enum(TASK_WIRES)),
  tools: z.array(ZToolSummary),
  /** Tools beyond the recorded maximum were left out. */
  toolsTruncated: z.boolean(),
});
export type TProbeDetails = z.infer<typeof ZProbeDetails>;

export const ZProbeResult = z.object({
  ok: z.boolean(),
  problem: z.object({ kind: z.enum(PROBE_PROBLEMS), message: z.string() }).nullable(),
  latencyMs: z.number().int().nullable(),
  /** Present when the handshake succeeded (also for no_task_support). */
  details: ZProbeDetails.nullable(),
});
export type TProbeResult = z.infer<typeof ZProbeResult>;

// ---- DTOs ------------------------------------------------------------------------------------

export const ZHealthCheckPoint = z.object({
  at: z.date(),
  ok: z.boolean(),
  status: z.enum(SERVER_HEALTH),
  latencyMs: z.number().int().nullable(),
  errorKind: z.string().nullable(),
});
export type THealthCheckPoint = z.infer<typeof ZHealthCheckPoint>;

export const ZServerDto = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  url: z.string(),
  audience: z.string(),
  gatewayPath: z.string(),
  enabled: z.boolean(),
  pollingPaused: z.boolean(),
  pollMinMs: z.number().int(),
  pollMaxMs: z.number().int(),
  pollConcurrency: z.number().int(),
  tags: z.array(z.string()),
  /** Only whether credentials are stored, and of which kind; never a secret. */
  credentials: z.enum(CREDENTIAL_KINDS),
  /** OAuth client credentials: the settings that are not secret (never the client secret). */
  oauth: z
    .object({ tokenUrl: z.string(), clientId: z.string(), scope: z.string().nullable(), resource: z.string().nullable(), audience: z.string().nullable() })
    .strict()
    .nullable(),
  serverInfo: ZServerInfo.nullable(),
  protocolVersion: z.string().nullable(),
  capabilities: ZCapabilitySummary.nullable(),
  taskWires: z.array(z.enum(TASK_WIRES)),
  tools: z.array(ZToolSummary).nullable(),
  health: z.object({
    status: z.enum(SERVER_HEALTH),
    lastCheckedAt: z.date().nullable(),
    latencyMs: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastErrorKind: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    /** The most recent checks, oldest first (for the sparkline). */
    recent: z.array(ZHealthCheckPoint),
  }),
  liveHandles: z.object({ total: z.number().int(), byStatus: z.record(z.string(), z.number().int()) }),
  /** Status sync of the server's live, non-terminal handles: how current the inventory is. */
  sync: z.object({
    oldestRunningAt: z.date().nullable(),
    pollLagP95Ms: z.number().nullable(),
    pollLagMaxMs: z.number().nullable(),
    failingPolls: z.number().int(),
  }),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TServerDto = z.infer<typeof ZServerDto>;
