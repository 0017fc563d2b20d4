/**
 * The wall-clock `timeout` for one synchronous entry into an isolate, given the CPU the invocation has
 * left. isolated-vm can only stop a slice by wall time; on a busy host the executor thread gets less than
 * a full core, so a wall timeout equal to the CPU left would end tenants early. The executor tracks how
 * much CPU its thread gets per unit of wall time (a moving average over recent slices) and stretches the
 * timeout by that, by at most MAX_STRETCH_MS: a slice can overrun its budget by a few ms when the load
 * eases, and can still be ended early when the thread gets much less than a core.
 */
const MAX_STRETCH_MS = 5;

export class SliceTimeout {
  #cpuPerWall = 1;

  /** Wall milliseconds a slice may run to use `remainingCpuMs` of CPU. */
  timeoutMs(remainingCpuMs: number): number {
    return Math.min(remainingCpuMs / this.#cpuPerWall, remainingCpuMs + MAX_STRETCH_MS);
  }

  /** Learn from a finished slice; short ones say little about contention. */
  observe(cpuUs: number, wallUs: number): void {
    if (wallUs < 1000) return;
    const ratio = Math.min(1, Math.max(0.5, cpuUs / wallUs));
    this.#cpuPerWall = this.#cpuPerWall * 0.8 + ratio * 0.2;
  }
}
