/**
 * The shape every benchmark scenario returns, so one runner can print progress, write the JSON of a run,
 * and render the Markdown summary and the HTML report from the same data.
 */

export interface ScenarioContext {
  /** Short runs for a smoke check (`--quick`); the full run is the default. */
  quick: boolean;
  /** Alternating rounds per comparison and seconds per round (closed-loop scenarios). */
  rounds: number;
  seconds: number;
  /** Progress for the person watching: one line at a time, to stderr. */
  log(line: string): void;
}

/** A figure checked against the target for it. */
export interface Target {
  name: string;
  measured: number;
  unit: string;
  /** The target as written, e.g. ">= 0.6x bare node:http" or "< 5 ms". */
  target: string;
  met: boolean;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export type Chart =
  | { kind: 'bars'; title: string; unit: string; bars: { label: string; value: number }[] }
  | {
      kind: 'lines';
      title: string;
      xLabel: string;
      unit: string;
      series: { label: string; points: [number, number][] }[];
      /** Optional labelled ticks on the x axis (e.g. percentiles placed on a log scale). */
      xTicks?: { value: number; label: string }[];
      /** Plot the y axis on a log scale. */
      logY?: boolean;
    }
  | { kind: 'histogram'; title: string; unit: string; values: number[] };

export interface ScenarioResult {
  id: string;
  title: string;
  /** The command that reproduces this scenario alone. */
  command: string;
  tables: Table[];
  targets: Target[];
  charts: Chart[];
  notes: string[];
  /** Raw measurements (e.g. every round of every system) kept in the run's JSON file; not rendered. */
  data?: Record<string, unknown>;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
