import "server-only";
import { randomBytes } from "node:crypto";
import { randomToken } from "@/lib/crypto/secrets";

// An API key is `tth_<8 hex>_<43 base64url>`: a recognisable scheme (secret scanners and the
// REST adapter key on `tth_`), a public identifier, and 256 bits of CSPRNG secret. The same
// format as the demo seed's key (lib/seed/seed-demo.ts).
export const API_KEY_PATTERN = /^tth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

/** "tth_" + 8 hex: identifies the key in the console and the audit trail, reveals nothing of its secret part. */
export const API_KEY_PREFIX_LENGTH = 12;

export function generateApiKey(): { key: string; prefix: string } {
  const key = `tth_${randomBytes(4).toString("hex")}_${randomToken(32)}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX_LENGTH) };
}
