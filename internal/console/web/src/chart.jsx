import { useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const palette = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"];

// CostChart draws daily cost per service (GetCostSummary periods).
export function CostChart({ periods }) {
  const el = useRef(null);
  // A layout effect, not an effect: the chart is built in the same frame
  // as the figures, not one frame later (Preact runs effects after paint).
  useLayoutEffect(() => {
    if (!el.current || !periods || periods.length === 0) return undefined;
    const services = [...new Set(periods.flatMap((p) => (p.items || []).map((i) => i.key)))].sort();
    const xs = periods.map((p) => Date.parse(p.start) / 1000);
    const series = services.map((s) =>
      periods.map((p) => {
        const it = (p.items || []).find((i) => i.key === s);
        return it ? Number(it.amount.micros || 0) / 1e6 : 0;
      }),
    );
    const plot = new uPlot(
      {
        width: el.current.clientWidth || 800,
        height: 260,
        series: [{}, ...services.map((s, i) => ({ label: s, stroke: palette[i % palette.length], width: 2 }))],
        axes: [{}, { values: (u, v) => v.map((x) => "$" + x.toFixed(0)) }],
      },
      [xs, ...series],
      el.current,
    );
    return () => plot.destroy();
  }, [periods]);
  return <div class="chart" ref={el} data-testid="cost-chart" />;
}
