"use client";

import { Monitor, Moon, Sun } from "lucide-react";
import { useState } from "react";
import { THEME_COOKIE, THEMES, type TTheme } from "./theme";

const ICONS = { system: Monitor, light: Sun, dark: Moon } as const;

export function ThemeToggle({ initial }: { initial: TTheme }) {
  const [theme, setTheme] = useState<TTheme>(initial);
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]!;
  const Icon = ICONS[theme];

  function apply() {
    const root = document.documentElement;
    const dark = next === "dark" || (next === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
    root.classList.toggle("dark", dark);
    root.dataset.theme = next;
    document.cookie = `${THEME_COOKIE}=${next}; path=/; max-age=31536000; samesite=lax`;
    setTheme(next);
  }

  return (
    <button
      type="button"
      onClick={apply}
      className="inline-flex h-9 items-center gap-2 rounded-control border border-border px-2.5 text-sm text-fg-muted hover:bg-surface-muted hover:text-fg"
      aria-label={`Theme: ${theme}. Switch to ${next}.`}
      title={`Theme: ${theme}`}
    >
      <Icon aria-hidden className="size-4" />
      <span className="sr-only sm:not-sr-only">{theme[0]!.toUpperCase() + theme.slice(1)}</span>
    </button>
  );
}
