/**
 * Wait until `check()` holds, polling every `intervalMs` (a check that throws counts as not
 * yet); throw `timed out: <what>` after `timeoutMs`. Benchmarks that time the wait poll often.
 */
export async function until (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
