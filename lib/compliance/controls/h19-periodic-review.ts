import type { TUnmeasurableControl } from "./types";

export const H19: TUnmeasurableControl = {
  id: "H-19",
  title: "Periodic review",
  definition: "Share of long-lived handles reviewed and attested within the period.",
  csf: ["PR.AA-05", "GV.OV-03"],
  sp80053: ["AC-2"],
  owasp: ["ASI03"],
  kind: "not_measurable",
  reason:
    "Tether has no review or attestation record for a handle: reviewers can open, revoke and cancel handles, but nothing records that a live handle was reviewed and kept, so there is no numerator.",
};
