"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-renders the bulk page's server components every `seconds` while the tab is visible and the
 * job can still change by itself (approved or running; slower while it waits for approval), so
 * progress moves without the live-update stream.
 */
export function BulkAutoRefresh({ seconds }: { seconds: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [router, seconds]);
  return null;
}
