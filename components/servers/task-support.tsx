import { Badge } from "@/components/ui/table";
import { TASK_WIRE_LABELS, type TCapabilitySummary, type TTaskWire, type TToolSummary } from "@/lib/servers/schemas";

export function TaskWireBadges({ wires, checked }: { wires: TTaskWire[]; checked: boolean }) {
  if (!checked) return <span className="text-xs text-fg-muted">not checked yet</span>;
  if (wires.length === 0) return <Badge tone="warning">no task support</Badge>;
  return (
    <span className="flex flex-wrap gap-1 whitespace-nowrap">
      {wires.map((w) => (
        <Badge key={w} tone="accent">
          {TASK_WIRE_LABELS[w]}
        </Badge>
      ))}
    </span>
  );
}

/** What the server declared for tasks (list, cancel, task-augmented tools/call) and how many tools use them. */
export function TaskCapabilities({ capabilities, tools }: { capabilities: TCapabilitySummary | null; tools: TToolSummary[] | null }) {
  if (!capabilities) return <span className="text-xs text-fg-muted">—</span>;
  const flags = capabilities.tasks
    ? ([
        ["tasks/list", capabilities.tasks.list],
        ["tasks/cancel", capabilities.tasks.cancel],
        ["tools/call as task", capabilities.tasks.toolsCall],
      ] as const)
    : [];
  const required = tools?.filter((t) => t.taskSupport === "required").length ?? 0;
  const optional = tools?.filter((t) => t.taskSupport === "optional").length ?? 0;
  return (
    <div className="space-y-1 text-xs">
      {flags.length ? (
        <ul className="flex flex-wrap gap-x-2 gap-y-0.5" aria-label="Task capabilities">
          {flags.map(([label, on]) => (
            <li key={label} className={on ? "text-fg" : "text-fg-muted line-through"}>
              {on ? "✓" : "✗"} {label}
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">no core tasks capability</p>
      )}
      {tools ? (
        <p className="text-fg-muted">
          {tools.length} {tools.length === 1 ? "tool" : "tools"}
          {required + optional > 0 ? ` · ${required} task-required, ${optional} task-optional` : ""}
        </p>
      ) : null}
    </div>
  );
}
