// The controls a compliance threshold exists for: the measured ones, with the definitions
// lib/compliance grades them by (metric kind, direction, unit, default). Pure.
import { CONTROLS } from "@/lib/compliance/controls";
import type { TMeasuredControl } from "@/lib/compliance/controls/types";

export const MEASURED_CONTROLS: readonly TMeasuredControl[] = CONTROLS.filter((c): c is TMeasuredControl => c.kind === "measured");
