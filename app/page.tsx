import { redirect } from "next/navigation";
import { requirePageActor } from "@/lib/auth/current-actor";
import { navItemsFor } from "@/lib/auth/permissions";

export default async function Home() {
  const actor = await requirePageActor();
  redirect(navItemsFor(actor.role)[0]?.href ?? "/handles");
}
