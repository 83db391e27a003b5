// What Tether records of an upstream's declarations. Pure: unit-tested without a server.
// Everything here comes from an untrusted upstream, so every string is cut to size and
// anything of an unexpected shape counts as absent.
import { TASKS_EXTENSION_ID, type TCapabilitySummary, type TServerInfo, type TTaskWire, type TToolSummary } from "./schemas";

export const MAX_RECORDED_TOOLS = 500;

type TUnknownRecord = Record<string, unknown>;

function isRecord(value: unknown): value is TUnknownRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown, max: number): string | null {
  return typeof value === "string" && value.length > 0 ? value.slice(0, max) : null;
}

export function summarizeServerInfo(info: unknown): TServerInfo {
  const record = isRecord(info) ? info : {};
  return { name: text(record.name, 200) ?? "(unnamed)", version: text(record.version, 100) ?? "", title: text(record.title, 200) };
}

export function summarizeCapabilities(capabilities: unknown): TCapabilitySummary {
  const caps = isRecord(capabilities) ? capabilities : {};
  const tasks = isRecord(caps.tasks) ? caps.tasks : null;
  const requests = tasks && isRecord(tasks.requests) ? tasks.requests : null;
  const toolsRequests = requests && isRecord(requests.tools) ? requests.tools : null;
  const extensionIds = [caps.extensions, caps.experimental].flatMap((group) => (isRecord(group) ? Object.keys(group) : []));
  return {
    tools: isRecord(caps.tools),
    resources: isRecord(caps.resources),
    prompts: isRecord(caps.prompts),
    logging: isRecord(caps.logging),
    completions: isRecord(caps.completions),
    tasks: tasks
      ? { list: isRecord(tasks.list), cancel: isRecord(tasks.cancel), toolsCall: Boolean(toolsRequests && isRecord(toolsRequests.call)) }
      : null,
    extensions: [...new Set(extensionIds.map((id) => id.slice(0, 200)))].sort().slice(0, 50),
  };
}

/**
 * The task wires a server speaks, as far as its declarations show: the 2025-11-25 core wire
 * when it declares `capabilities.tasks`, the 2026-07-28 extension when it declares the
 * `io.modelcontextprotocol/tasks` extension.
 */
export function detectTaskWires(summary: TCapabilitySummary): TTaskWire[] {
  const wires: TTaskWire[] = [];
  if (summary.tasks) wires.push("core_2025_11_25");
  if (summary.extensions.includes(TASKS_EXTENSION_ID)) wires.push("ext_2026_07_28");
  return wires;
}

export function summarizeTools(tools: unknown[]): { tools: TToolSummary[]; truncated: boolean } {
  const out: TToolSummary[] = [];
  for (const [index, tool] of tools.entries()) {
    if (out.length === MAX_RECORDED_TOOLS) return { tools: out, truncated: tools.slice(index).some((t) => isRecord(t) && text(t.name, 200)) };
    if (!isRecord(tool)) continue;
    const name = text(tool.name, 200);
    if (!name) continue;
    const execution = isRecord(tool.execution) ? tool.execution : {};
    const declared = execution.taskSupport;
    // Absent means forbidden (spec 2025-11-25, tool-level negotiation).
    const taskSupport = declared === "optional" || declared === "required" ? declared : "forbidden";
    out.push({ name, title: text(tool.title, 200), description: text(tool.description, 500), taskSupport });
  }
  return { tools: out, truncated: false };
}
