import { renderTrendSvg } from "@/lib/compliance/trend-chart-svg";
import type { TReportControl } from "@/lib/compliance/report-content";

/**
 * A control's trend over the report period and the five before it: an SVG rendered on the server
 * (every text in it is escaped by the renderer), the same chart the print export carries.
 */
export function TrendChart({ control }: { control: TReportControl }) {
  if (!control.trend.length) return <p className="text-sm text-fg-muted">No trend: this control cannot be measured from Tether&apos;s data.</p>;
  return <figure className="overflow-x-auto rounded-control border border-border bg-white p-2" dangerouslySetInnerHTML={{ __html: renderTrendSvg(control) }} />;
}
