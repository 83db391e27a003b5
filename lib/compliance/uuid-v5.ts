// RFC 9562 name-based UUIDs (version 5, SHA-1): OSCAL accepts only v4 and v5, and a v5 derived
// from the report id and an element's name gives the same export the same ids every time.
import { createHash } from "node:crypto";

/** Tether's namespace for OSCAL ids (a fixed v4). */
export const TETHER_OSCAL_NAMESPACE = "6f1c3a52-9d0e-4b7a-8e21-3c5d7f9a1b24";

export function uuidV5(name: string, namespace = TETHER_OSCAL_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error("namespace must be a UUID");
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
