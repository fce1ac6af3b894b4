import { mkdir, readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { writeFileAtomic } from '../runtime/atomic-file.js'
import { fileURLToPath } from 'node:url'

const benchmarksPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))

/**
 * Write one benchmark's report to bench/results/<heading>.md, and replace (or
 * add) its `## Heading` section of docs/benchmarks.md only when the run was
 * given `--docs`: a benchmark run never changes the docs by surprise.
 */
export async function writeSection (heading: string, body: string): Promise<void> {
  const slug = heading.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
  const resultPath = `${resultsDir}${slug}.md`
  await mkdir(resultsDir, { recursive: true })
  await writeFileAtomic(resultPath, `# ${heading}

${body.trim()}
`, { mode: 0o644 })
  process.stdout.write(`results written to bench/results/${slug}.md${process.argv.includes('--docs') ? ' and docs/benchmarks.md' : ' (add --docs to update docs/benchmarks.md)'}\n`)
  if (!process.argv.includes('--docs')) return
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

/** A progress line on stderr, so a long benchmark shows it is alive. */
export function progress (text: string): void {
  process.stderr.write(`  … ${text}\n`)
}
