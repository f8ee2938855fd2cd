// Waiting on a real condition where no event exists (group membership, consumer progress in another
// process): poll it with a bound, and say what was awaited and what was last seen on timeout.
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  describe?: () => unknown | Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `: ${JSON.stringify(await describe())}` : ""}`);
    await Bun.sleep(50);
  }
}
