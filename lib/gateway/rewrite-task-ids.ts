// Rewriting task ids in MCP messages between the agent's view (handle tokens) and the upstream's
// (its own task ids). Pure: lookups are passed in, so the rules are unit-testable.
import { RELATED_TASK_META_KEY } from "./jsonrpc";

type TJson = Record<string, unknown>;

const isObject = (v: unknown): v is TJson => typeof v === "object" && v !== null && !Array.isArray(v);

/** The `_meta` object of a message's params (requests, notifications) or result (responses). */
function metaOf(message: TJson): TJson | null {
  for (const key of ["params", "result"] as const) {
    const container = message[key];
    if (isObject(container) && isObject(container._meta)) return container._meta;
  }
  return null;
}

/** The task id named in a message's related-task metadata, if any. */
export function relatedTaskId(message: TJson): unknown {
  const meta = metaOf(message);
  const related = meta?.[RELATED_TASK_META_KEY];
  return isObject(related) ? (related.taskId ?? null) : undefined;
}

/**
 * Replaces the related-task id with `replacement`, or removes the metadata when `replacement` is
 * null (an id the other side must not learn). Returns a new message; the input is not changed.
 */
export function withRelatedTaskId(message: TJson, replacement: string | null): TJson {
  const copy = structuredClone(message);
  const meta = metaOf(copy);
  if (!meta || !(RELATED_TASK_META_KEY in meta)) return copy;
  if (replacement === null) delete meta[RELATED_TASK_META_KEY];
  else meta[RELATED_TASK_META_KEY] = { ...(meta[RELATED_TASK_META_KEY] as TJson), taskId: replacement };
  return copy;
}

/**
 * Last line of defence on every message that leaves for the agent: any upstream task id the
 * gateway knows about in this exchange is replaced by its token wherever it appears (error
 * messages, status messages, content), and any that has no token is masked.
 */
export function scrubUpstreamIds(serialized: string, replacements: ReadonlyMap<string, string | null>): string {
  let out = serialized;
  for (const [upstreamId, token] of replacements) {
    if (upstreamId.length < 8) continue; // too short to find without mangling unrelated text
    const escaped = JSON.stringify(upstreamId).slice(1, -1);
    if (out.includes(escaped)) out = out.split(escaped).join(token ?? "[task]");
  }
  return out;
}
