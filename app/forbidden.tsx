import { headers } from "next/headers";
import { StatusPage } from "@/components/shell/status-page";
import { REQUEST_ID_HEADER } from "@/lib/http/request-meta";

export default async function Forbidden() {
  const requestId = (await headers()).get(REQUEST_ID_HEADER) ?? undefined;
  return (
    <StatusPage
      code="403"
      title="You don't have access to this page"
      message="Your role does not include the permission this page needs. An administrator can change your role."
      requestId={requestId}
    />
  );
}
