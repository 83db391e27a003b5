"use client";

import Link from "next/link";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Table, Td, Th } from "@/components/ui/table";
import type { TActiveHandleDto } from "@/lib/handles/handle-detail-schemas";
import { HandleActions } from "./handle-actions";
import { HandleCancelBadge, HandleStatusBadge } from "./handle-status-badge";

type TDone = { accessor: string; message: string };

const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
function ago(date: Date, now: number): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 60) return RELATIVE.format(seconds, "second");
  if (Math.abs(seconds) < 3600) return RELATIVE.format(Math.round(seconds / 60), "minute");
  return RELATIVE.format(Math.round(seconds / 3600), "hour");
}

/**
 * The support view's table: each queued or running action with cancel as its primary action. The
 * outcome of a cancel stays above the table after its row has left the list (a cancelled handle
 * is revoked, so it is no longer queued or running).
 */
export function HandleActiveTable({ handles, now, canCancel }: { handles: TActiveHandleDto[]; now: number; canCancel: boolean }) {
  const [done, setDone] = useState<TDone[]>([]);
  return (
    <div className="space-y-3">
      {done.length ? (
        <div className="space-y-2" aria-live="polite">
          {done.map((d) => (
            <Alert key={d.accessor} tone="success">
              <Link href={`/handles/${d.accessor}`} className="font-mono text-xs underline-offset-4 hover:underline">
                {d.accessor}
              </Link>
              : {d.message}
            </Alert>
          ))}
        </div>
      ) : null}
      {handles.length === 0 ? null : (
        <Table label="Queued and running actions">
          <thead>
            <tr>
              <Th>Handle</Th>
              <Th>Tool</Th>
              <Th>Owner</Th>
              <Th>Server</Th>
              <Th>Status</Th>
              <Th>Started</Th>
              <Th>Expires</Th>
              {canCancel ? <Th className="w-px">Action</Th> : null}
            </tr>
          </thead>
          <tbody>
            {handles.map((h) => (
              <tr key={h.accessor}>
                <Td className="font-mono text-xs">
                  <Link href={`/handles/${h.accessor}`} className="text-accent underline-offset-4 hover:underline">
                    {h.accessor}
                  </Link>
                </Td>
                <Td className="font-mono text-xs">{h.toolName}</Td>
                <Td>{h.principal.name}</Td>
                <Td>{h.server.name}</Td>
                <Td>
                  <span className="flex flex-wrap gap-1">
                    <HandleStatusBadge status={h.status} />
                    {h.cancelState !== "none" ? <HandleCancelBadge state={h.cancelState} /> : null}
                  </span>
                  {h.statusMessage ? <p className="mt-1 text-xs text-fg-muted">{h.statusMessage}</p> : null}
                </Td>
                <Td className="whitespace-nowrap text-xs">{ago(h.createdAt, now)}</Td>
                <Td className="whitespace-nowrap text-xs">{ago(h.expiresAt, now)}</Td>
                {canCancel ? (
                  <Td className="min-w-[10rem]">
                    <HandleActions
                      accessor={h.accessor}
                      canCancel={canCancel && h.cancelState !== "requested"}
                      canRevoke={false}
                      onDone={(d, message) => setDone((list) => [{ accessor: d.accessor, message }, ...list.filter((x) => x.accessor !== d.accessor)].slice(0, 5))}
                    />
                  </Td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </div>
  );
}
