/**
 * The wall-clock `timeout` for one synchronous entry into an isolate, given the CPU the invocation has
 * left. isolated-vm can only stop a slice by wall time; on a busy host the thread gets less than a full
 * core, so a wall timeout equal to the CPU left would end tenants early. The thread's share of a core is
 * learned from its own slices (CPU over wall time, summed over windows of at least WINDOW_WALL_US so
 * short slices count too) and the timeout is stretched by it, by at most MAX_STRETCH_MS: a slice can
 * overrun its budget by a few ms when the load eases, and can still be ended early when the thread
 * gets much less than a core.
 */
const MAX_STRETCH_MS = 5;
const WINDOW_WALL_US = 5000;

export class SliceTimeout {
  #cpuPerWall = 1;
  #windowCpuUs = 0;
  #windowWallUs = 0;

  /** Wall milliseconds a slice may run to use `remainingCpuMs` of CPU. */
  timeoutMs(remainingCpuMs: number): number {
    return Math.min(remainingCpuMs / this.#cpuPerWall, remainingCpuMs + MAX_STRETCH_MS);
  }

  observe(cpuUs: number, wallUs: number): void {
    this.#windowCpuUs += cpuUs;
    this.#windowWallUs += wallUs;
    if (this.#windowWallUs < WINDOW_WALL_US) return;
    const ratio = Math.min(1, Math.max(0.5, this.#windowCpuUs / this.#windowWallUs));
    this.#cpuPerWall = this.#cpuPerWall * 0.7 + ratio * 0.3;
    this.#windowCpuUs = 0;
    this.#windowWallUs = 0;
  }
}
