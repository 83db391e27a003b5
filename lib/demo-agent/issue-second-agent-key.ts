// For a demo database seeded before the seed made a second agent: sign in to the running console
// as the demo admin and issue a short-lived key for the agent `demo-agent-2` (created if missing),
// through the public REST API, exactly as an administrator would.

const SECOND_AGENT = "demo-agent-2";

type TFetch = typeof fetch;

async function signIn(baseUrl: string, email: string, password: string, fetchImpl: TFetch): Promise<string> {
  const csrf = await fetchImpl(`${baseUrl}/api/auth/csrf`);
  const cookies = csrf.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await fetchImpl(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(";")[0]!).find((c) => /^(__Secure-)?next-auth\.session-token=/.test(c));
  if (!session) throw new Error(`signing in as ${email} failed (HTTP ${res.status})`);
  return [...cookies, session].join("; ");
}

async function api<T>(fetchImpl: TFetch, url: string, cookie: string, body?: unknown): Promise<T> {
  const res = await fetchImpl(url, {
    method: body === undefined ? "GET" : "POST",
    headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${body === undefined ? "GET" : "POST"} ${new URL(url).pathname} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** A fresh one-day key for `demo-agent-2`; the caller keeps it in memory only. */
export async function issueSecondAgentKey(input: { baseUrl: string; admin: { email: string; password: string }; fetch?: TFetch }): Promise<{ key: string; agentName: string }> {
  const fetchImpl = input.fetch ?? fetch;
  const base = input.baseUrl.replace(/\/$/, "");
  const cookie = await signIn(base, input.admin.email, input.admin.password, fetchImpl);
  const { data } = await api<{ data: Array<{ id: string; name: string }> }>(fetchImpl, `${base}/api/v1/service-accounts`, cookie);
  const account =
    data.find((a) => a.name === SECOND_AGENT) ?? (await api<{ id: string; name: string }>(fetchImpl, `${base}/api/v1/service-accounts`, cookie, { name: SECOND_AGENT, role: "viewer" }));
  const { key } = await api<{ key: string }>(fetchImpl, `${base}/api/v1/api-keys`, cookie, { principalId: account.id, name: "npm run demo:agent", expiresInDays: 1 });
  return { key, agentName: SECOND_AGENT };
}
