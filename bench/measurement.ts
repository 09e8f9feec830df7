/** What one scenario of the benchmark measured: the row of the table and of the JSON file. */

export interface Measurement {
  /** Stable id, e.g. `e2e-post`, `reads-10000`, `scale-out-2`. */
  id: string;
  group: string;
  /** Human label, e.g. `POST /facade (form)`. */
  title: string;
  /** What was loaded: a URL, or `hazelcast <op>`. */
  target: string;
  connections: number;
  /** Seconds measured (warm-up excluded). */
  durationSec: number;
  /** Completed requests or operations, any status. */
  requests: number;
  /** Completed requests or operations per second. */
  rps: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  /** Connection errors and timeouts. */
  errors: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Largest resident set size of each process seen during the measurement, in MB. */
  rssMb: Record<string, number>;
  /** CPU time each process used during the measurement, in ms (all cores). */
  cpuMs: Record<string, number>;
  /**
   * CPU time the whole machine used during the measurement and what its cores could give, in ms:
   * busy minus the processes above is what other work on the machine took.
   */
  machineCpuMs: { busyMs: number; capacityMs: number } | undefined;
  notes: string[];
  /**
   * When the measured run started and ended on the monotonic clock (µs), the clock V8's CPU
   * profiles use: `profile-summary --bench FILE --scenario ID` keeps only these samples.
   */
  monotonicUs: [number, number];
}

/** A scenario that could not run, and why. */
export interface Skipped {
  id: string;
  title: string;
  reason: string;
}

/** Now on the monotonic clock, in µs. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
