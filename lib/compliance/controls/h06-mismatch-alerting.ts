import type { TUnmeasurableControl } from "./types";

export const H06: TUnmeasurableControl = {
  id: "H-06",
  title: "Mismatch detection and alerting",
  definition: "Share of mismatched-use attempts that raise an alert or ticket within 5 minutes; count per principal.",
  csf: ["DE.CM-09", "DE.CM-03", "DE.AE-02", "DE.AE-06"],
  sp80053: ["SI-4", "AU-6", "AC-2(12)"],
  owasp: ["ASI03", "ASI07"],
  kind: "not_measurable",
  reason:
    "Tether raises no alert or ticket per mismatched use: each denial is an audit event (measured by H-05) and the only alert, gateway.enumeration_suspected, is about repeated refusals of one principal, so there is no alert time to measure per attempt.",
};
