// Design tokens. Colours point at CSS variables (app/globals.css) so light and dark themes
// swap values without touching class names.
import type { Config } from "tailwindcss";

const token = (name: string) => `var(--${name})`;

export default {
  content: ["./app/**/*.{ts,tsx}", "./components/**/*.{ts,tsx}"],
  theme: {
    extend: {
      colors: {
        canvas: token("canvas"),
        surface: token("surface"),
        "surface-muted": token("surface-muted"),
        border: token("border"),
        fg: token("fg"),
        "fg-muted": token("fg-muted"),
        accent: token("accent"),
        "accent-fg": token("accent-fg"),
        danger: token("danger"),
        "danger-surface": token("danger-surface"),
        warning: token("warning"),
        "warning-surface": token("warning-surface"),
        success: token("success"),
        "success-surface": token("success-surface"),
        focus: token("focus"),
      },
      fontFamily: {
        sans: ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        mono: ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
      },
      borderRadius: { control: "0.375rem", card: "0.5rem" },
      maxWidth: { content: "80rem" },
    },
  },
} satisfies Config;
