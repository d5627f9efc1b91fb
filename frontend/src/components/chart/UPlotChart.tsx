/** The uPlot side of ./Chart.tsx (its own chunk: import `Chart` from there, not this file). */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./chart.css";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS colour (default: the app's accent). */
  color?: string;
  /** Bars instead of a line. */
  bars?: boolean;
}

export interface ChartProps {
  /** An accessible name, also shown as the title. */
  title: string;
  x: number[];
  series: ChartSeries[];
  /** The x axis: plain numbers (epochs) or Unix seconds shown as times. */
  xKind?: "number" | "time";
  xLabel?: string;
  yLabel?: string;
  height?: number;
  /** Names of the x values 0, 1, 2… (a bar per category instead of a numeric axis). */
  xLabels?: string[];
}

const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
/** Tick steps of a numeric x axis (epochs): whole numbers only. */
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

export default function UPlotChart({
  title,
  x,
  series,
  xKind = "number",
  xLabel,
  yLabel,
  height = 180,
  xLabels,
}: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const bars = series.some((s) => s.bars);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const plot = new uPlot(
      {
        title,
        width,
        height,
        scales: {
          x: xLabels
            ? { time: false, range: () => [-0.5, xLabels.length - 0.5] }
            : {
                time: xKind === "time",
                // Whole bars at the edges; one point still gets an axis around it.
                range: (_u: uPlot, min: number, max: number) =>
                  bars ? [min - 0.5, max + 0.5] : min === max ? [min - 3_600, max + 3_600] : [min, max],
              },
          // Amounts and shares: from zero, so bars and lines are not exaggerated.
          y: { range: (_u: uPlot, min: number, max: number) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] },
        },
        legend: { show: series.length > 1 },
        axes: [
          xLabels
            ? {
                label: xLabel,
                splits: () => xLabels.map((_, i) => i),
                values: (_u: uPlot, splits: number[]) => splits.map((i) => xLabels[i] ?? ""),
              }
            : xKind === "number"
              ? { label: xLabel, incrs: WHOLE }
              : { label: xLabel },
          // Compact figures ("50K") so that the axis never cuts a number off.
          { label: yLabel, size: 52, values: (_u: uPlot, splits: number[]) => splits.map((v) => COMPACT.format(v)) },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color ?? "#4f7cff",
            fill: s.bars ? (s.color ?? "#4f7cff") + "66" : undefined,
            paths: s.bars ? uPlot.paths.bars!({ size: [0.6, 40] }) : undefined,
          })),
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, x, series, xKind, xLabel, yLabel, height, xLabels, bars]);
  return <div ref={box} className="uchart" role="img" aria-label={title} data-testid="chart" />;
}
