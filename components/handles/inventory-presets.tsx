import { clsx } from "clsx";
import Link from "next/link";
import { HANDLE_PRESET_IDS, HANDLE_PRESETS, type THandlePreset } from "@/lib/handles/handle-filter-schema";
import { presetHref, type TInventoryView } from "./inventory-urls";

/** The built-in presets as tabs: links that swap the preset and keep the other filters. */
export function InventoryPresets({ view }: { view: TInventoryView }) {
  const current = view.filter.preset ?? null;
  const tabs: Array<{ id: THandlePreset | null; label: string; description: string }> = [
    { id: null, label: "All handles", description: "Every handle Tether has minted, in any state." },
    ...HANDLE_PRESET_IDS.map((id) => ({ id, label: HANDLE_PRESETS[id].label, description: HANDLE_PRESETS[id].description })),
  ];
  return (
    <nav aria-label="Presets" className="mb-3 overflow-x-auto">
      <ul className="flex min-w-max gap-1 border-b border-border">
        {tabs.map((tab) => {
          const active = tab.id === current;
          return (
            <li key={tab.id ?? "all"}>
              <Link
                href={presetHref(view, tab.id)}
                prefetch={false}
                aria-current={active ? "page" : undefined}
                title={tab.description}
                className={clsx(
                  "-mb-px inline-block border-b-2 px-3 py-2 text-sm font-medium",
                  active ? "border-accent text-fg" : "border-transparent text-fg-muted hover:border-border hover:text-fg",
                )}
              >
                {tab.label}
              </Link>
            </li>
          );
        })}
      </ul>
      {current ? <p className="mt-2 text-xs text-fg-muted">{HANDLE_PRESETS[current].description}</p> : null}
    </nav>
  );
}
