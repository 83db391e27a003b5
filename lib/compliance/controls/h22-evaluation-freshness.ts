import type { TUnmeasurableControl } from "./types";

export const H22: TUnmeasurableControl = {
  id: "H-22",
  title: "Evaluation freshness",
  definition: "Age of the last automated run of all metrics; exceptions open past their expiry.",
  csf: ["ID.IM-01", "GV.OV-03", "ID.RA-07"],
  sp80053: ["CA-7", "CA-5"],
  owasp: [],
  kind: "not_measurable",
  reason:
    "Reports are generated on request, not on a schedule, and Tether keeps no register of exceptions with expiry dates, so neither the age of an automated run nor overdue exceptions exist to measure.",
};
