"use client";

import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { formatTimestamp } from "@/lib/format";

/**
 * Shows a just-created API key, once. The value is held only in memory on this page: it is not
 * in the URL, not in the server-rendered page, and gone after a reload or Done.
 */
export function NewApiKeyReveal({
  apiKey,
  accountName,
  onDone,
}: {
  apiKey: { key: string; prefix: string; name: string; expiresAt: Date | null };
  accountName: string;
  onDone: () => void;
}) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const titleId = `new-key-title-${apiKey.prefix}`;

  // Move focus to the key so keyboard and screen-reader users land on it (and can copy it).
  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, [apiKey.key]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(apiKey.key);
      setCopied("yes");
    } catch {
      // No clipboard permission (or an insecure origin): select the text for a manual copy.
      inputRef.current?.select();
      setCopied("failed");
    }
  }

  return (
    <section aria-labelledby={titleId} className="space-y-2 rounded-control border border-warning/50 bg-warning-surface p-3" data-testid="new-api-key">
      <h3 id={titleId} className="text-sm font-semibold text-warning">
        Copy this key now. It will not be shown again.
      </h3>
      <p className="text-sm">
        Key <span className="font-medium">{apiKey.name}</span> for <span className="font-medium">{accountName}</span>
        {apiKey.expiresAt ? `, expires ${formatTimestamp(new Date(apiKey.expiresAt))}` : ", never expires"}. Tether keeps only a hash of it: if
        it is lost, revoke it and create a new one. Agents send it as <code className="whitespace-nowrap font-mono text-xs">Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor={`${titleId}-value`} className="sr-only">
          New API key
        </label>
        <input
          ref={inputRef}
          id={`${titleId}-value`}
          readOnly
          value={apiKey.key}
          spellCheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
          className="min-w-0 flex-1 rounded-control border border-border bg-surface px-2.5 py-1.5 font-mono text-sm text-fg"
        />
        <Button type="button" variant="secondary" onClick={copy}>
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
        <Button type="button" variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
      <p aria-live="polite" className="text-xs text-fg-muted">
        {copied === "yes" ? "Copied to the clipboard." : copied === "failed" ? "Copying is blocked here; the key is selected, press Ctrl+C (⌘C)." : ""}
      </p>
    </section>
  );
}
