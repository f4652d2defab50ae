import net from 'node:net';

/**
 * Ports for tests that must name them up front (`npm start` takes IDENTITY_PORT, FUNCTIONS_PORT
 * and GATEWAY_PORT before anything listens). Asking the OS for a free port and closing it is a
 * race: two vitest workers can be handed the same one. Instead each worker takes ports from a
 * block of its own, chosen by VITEST_POOL_ID (1 to maxWorkers, distinct among the workers that run
 * at the same time), and hands them out in order, skipping any that something else holds.
 *
 * The blocks lie below every ephemeral range (Linux 32768-60999, Windows and macOS 49152-65535),
 * where the OS never puts a port-0 server or an outgoing connection. The vitest process's id
 * shifts the blocks, so that two runs on one machine rarely share one; when they do, the
 * bind check skips what the other run holds.
 */
const FIRST_PORT = 20_000;
const BLOCK_SIZE = 100;
const BLOCKS = 120; // 20000-31999

/**
 * Hands out the ports of the block of worker `pool` (VITEST_POOL_ID) in a run whose vitest
 * process is `run`, in order, skipping any that something else holds.
 */
export function portAllocator(pool: number, run: number): () => Promise<number> {
  if (!Number.isInteger(pool) || pool < 1 || pool >= BLOCKS) {
    throw new Error(`VITEST_POOL_ID must be an integer from 1 to ${BLOCKS - 1}, not ${pool}`);
  }
  const first = FIRST_PORT + ((run + pool) % BLOCKS) * BLOCK_SIZE;
  let handedOut = 0;
  return async () => {
    while (handedOut < BLOCK_SIZE) {
      const port = first + handedOut;
      handedOut += 1;
      if (await portIsFree(port)) return port;
    }
    throw new Error(`No free port left in ${first}-${first + BLOCK_SIZE - 1} for this test file.`);
  };
}

let allocator: (() => Promise<number>) | undefined;

/** A port of this worker's block that no earlier call returned and that can be bound now. */
export function freePort(): Promise<number> {
  allocator ??= portAllocator(Number(process.env.VITEST_POOL_ID ?? '1'), process.ppid);
  return allocator();
}

/** Whether 127.0.0.1:port can be bound right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
