/**
 * After a burst of requests V8 keeps the heap it grew (it collects when allocating, and an idle
 * process allocates nothing), so the host's memory stays at its peak. When the process runs with
 * `--expose-gc` (npm start starts the host so), one full collection once the host has been idle
 * for `idleMs` gives that memory back; nothing happens while requests keep coming.
 */
export function collectWhenIdle(idleMs = 2_000): { touch(): void; stop(): void } {
  const gc = (globalThis as { gc?: () => void }).gc;
  let timer: NodeJS.Timeout | undefined;
  return {
    touch: () => {
      if (!gc) return;
      if (timer) {
        timer.refresh();
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        gc();
      }, idleMs);
      timer.unref();
    },
    stop: () => clearTimeout(timer),
  };
}
