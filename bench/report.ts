import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { writeFileAtomic } from '../runtime/atomic-file.js'
import { fileURLToPath } from 'node:url'

const benchmarksPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))

/** Replace (or add) one `## Heading` section of docs/benchmarks.md, keeping the others. */
export async function writeSection (heading: string, body: string): Promise<void> {
  const current = await readFile(benchmarksPath, 'utf8').catch(() => '# Benchmarks\n\nWritten by `npm run bench`; every figure is measured in the same run as its baseline, on the machine named in each section.\n')
  const section = `## ${heading}\n\n${body.trim()}\n`
  const pattern = new RegExp(`## ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`)
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}`
  await writeFileAtomic(benchmarksPath, next, { mode: 0o644 })
}

export function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

export function machineLine (): string {
  return `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${availableParallelism()} cores`
}
