import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fresh copy of the module, as a worker with this VITEST_POOL_ID loads it. */
async function portsOfWorker(pool: number): Promise<typeof import('./ports')> {
  vi.stubEnv('VITEST_POOL_ID', String(pool));
  vi.resetModules();
  const ports: typeof import('./ports') = await import('./ports');
  return ports;
}

async function take(ports: typeof import('./ports'), count: number): Promise<number[]> {
  const taken: number[] = [];
  for (let i = 0; i < count; i++) taken.push(await ports.freePort());
  return taken;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('freePort', () => {
  it('never hands the same port to two workers running at once', async () => {
    const all: number[] = [];
    for (const pool of [1, 2, 3]) all.push(...(await take(await portsOfWorker(pool), 10)));
    expect(new Set(all).size).toBe(all.length);
  });

  it('hands out distinct ports below the ephemeral ranges of Linux, Windows and macOS', async () => {
    const ports = await take(await portsOfWorker(1), 20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_000);
    }
  });

  it('skips a port that something else holds', async () => {
    const first = (await take(await portsOfWorker(4), 1))[0]!;
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(first, '127.0.0.1', resolve));
    try {
      const again = await portsOfWorker(4);
      expect(await again.portIsFree(first)).toBe(false);
      const next = await again.freePort();
      expect(next).not.toBe(first);
      expect(next).toBeGreaterThan(first);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses a pool id outside its blocks, naming VITEST_POOL_ID', async () => {
    await expect((await portsOfWorker(0)).freePort()).rejects.toThrow(/VITEST_POOL_ID/);
  });
});
