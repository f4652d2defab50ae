/** A small closed-loop load: `users` concurrent loops, each calling `request` until the time is up. */
export async function underLoad<T>(
  options: { users: number; durationMs: number },
  request: (user: number, i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  const end = Date.now() + options.durationMs;
  await Promise.all(
    Array.from({ length: options.users }, async (_, user) => {
      for (let i = 0; Date.now() < end; i += 1) results.push(await request(user, i));
    }),
  );
  return results;
}

/** How many of each value. */
export function tally(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
