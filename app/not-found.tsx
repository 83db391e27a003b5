import { headers } from "next/headers";
import { StatusPage } from "@/components/shell/status-page";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";

export default async function NotFound() {
  const requestId = (await headers()).get(REQUEST_ID_HEADER) ?? undefined;
  return <StatusPage code="404" title="Page not found" message="There is nothing at this address, or you may not see it." requestId={requestId} />;
}
