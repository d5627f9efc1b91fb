/**
 * A chart, drawn by uPlot (a small, maintained canvas chart library), loaded lazily: the library and
 * its stylesheet are fetched the first time a chart is shown, so the initial JavaScript stays within
 * bench/web.json's goal. `series` share one x axis (`x`: numbers such as epochs or Unix seconds).
 */
import { lazy, Suspense } from "react";

import type { ChartProps } from "./UPlotChart";

export type { ChartProps, ChartSeries } from "./UPlotChart";

const UPlotChart = lazy(() => import("./UPlotChart"));

export function Chart(props: ChartProps) {
  return (
    <Suspense fallback={<div className="chart-loading" style={{ height: props.height ?? 180 }} aria-busy="true" />}>
      <UPlotChart {...props} />
    </Suspense>
  );
}
