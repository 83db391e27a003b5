// Every control of a report, in report order (H-01 … H-22 of ../shared/docs/compliance.md §6).
import { H01 } from "./h01-inventory-completeness";
import { H02 } from "./h02-orphans";
import { H03 } from "./h03-ttl-conformance";
import { H04 } from "./h04-outstanding-past-session-end";
import { H05 } from "./h05-binding-enforcement";
import { H06 } from "./h06-mismatch-alerting";
import { H07 } from "./h07-revocation-latency";
import { H08 } from "./h08-use-after-revocation";
import { H09 } from "./h09-reviewer-attribution";
import { H10 } from "./h10-separation-of-duties";
import { H11 } from "./h11-audit-chain-intact";
import { H12 } from "./h12-audit-coverage";
import { H13 } from "./h13-audit-retention";
import { H14 } from "./h14-audience-restriction";
import { H15 } from "./h15-least-privilege";
import { H16 } from "./h16-handle-secrecy";
import { H17 } from "./h17-policy-drift";
import { H18 } from "./h18-replay-concurrent-use";
import { H19 } from "./h19-periodic-review";
import { H20 } from "./h20-detect-to-contain";
import { H21 } from "./h21-kill-switch-drill";
import { H22 } from "./h22-evaluation-freshness";
import type { TControl } from "./types";

export const CONTROLS: readonly TControl[] = [H01, H02, H03, H04, H05, H06, H07, H08, H09, H10, H11, H12, H13, H14, H15, H16, H17, H18, H19, H20, H21, H22];

export const CONTROLS_BY_ID: ReadonlyMap<string, TControl> = new Map(CONTROLS.map((c) => [c.id, c]));
