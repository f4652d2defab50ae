import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portAllocator, portIsFree } from './ports';

async function take(next: () => Promise<number>, count: number): Promise<number[]> {
  const taken: number[] = [];
  for (let i = 0; i < count; i++) taken.push(await next());
  return taken;
}

describe('freePort', () => {
  it('never hands the same port to two workers of one run', async () => {
    const all: number[] = [];
    for (const pool of [1, 2, 3, 4]) all.push(...(await take(portAllocator(pool, 4242), 10)));
    expect(new Set(all).size).toBe(all.length);
  });

  it('hands out distinct ports below the ephemeral ranges of Linux, Windows and macOS', async () => {
    const ports = await take(freePort, 20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_000);
    }
  });

  it('skips a port that something else holds', async () => {
    const first = (await take(portAllocator(5, 4242), 1))[0]!;
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(first, '127.0.0.1', resolve));
    try {
      expect(await portIsFree(first)).toBe(false);
      const next = await portAllocator(5, 4242)();
      expect(next).not.toBe(first);
      expect(next).toBeGreaterThan(first);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses a pool id outside its blocks, naming VITEST_POOL_ID', () => {
    expect(() => portAllocator(0, 4242)).toThrow(/VITEST_POOL_ID/);
    expect(() => portAllocator(120, 4242)).toThrow(/VITEST_POOL_ID/);
  });
});
