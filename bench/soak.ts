// `npm run soak [-- --minutes M]`: the hostile-peer soak (test/support/soak.ts), 10 minutes by
// default, with its report in bench/results/ (docs/benchmarks.md too with --docs).
import '../actors/polyfill.js'
import { parseArgs } from 'node:util'
import { runSoak, soakGoals } from '../test/support/soak.js'
import type { SoakReport } from '../test/support/soak.js'
import { machineLine, progress, writeSection } from './report.js'

export function soakReport (r: SoakReport, minutes: number): string {
  return [
    `${machineLine()}; ${minutes} min of attacks after a quiet phase, all on one machine (victim, member, honest peer and attacker processes share the 2 cores).`,
    '',
    '| phase | honest requests | failed | p50 ms | p99 ms |',
    '|---|---|---|---|---|',
    `| quiet (baseline) | ${r.quiet.requests} | 0 | ${r.quiet.p50.toFixed(1)} | ${r.quiet.p99.toFixed(1)} |`,
    `| under attack | ${r.attacked.requests} | ${r.attacked.failed} | ${r.attacked.p50.toFixed(1)} | ${r.attacked.p99.toFixed(1)} |`,
    '',
    `Attacks sent: ${Object.entries(r.attacks).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Victim RSS (s → MB): ${r.rss.samples.filter((_, i, all) => i % Math.max(1, Math.floor(all.length / 12)) === 0).map(([s, mb]) => `${s}→${mb}`).join(', ')}.`,
    '',
    'Goals:',
    ...soakGoals(r).map(([goal, met]) => `- ${met ? 'met' : '**not met**'}: ${goal}`)
  ].join('\n')
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { minutes: { type: 'string' }, docs: { type: 'boolean' } }, strict: false })
const minutes = Number(values.minutes ?? 10)
const report = await runSoak({ durationMs: minutes * 60_000, quietMs: 30_000, rotateEveryMs: 30_000, onProgress: progress })
const text = soakReport(report, minutes)
process.stdout.write(`${text}\n`)
await writeSection('Hostile-peer soak', text)
process.exit(soakGoals(report).every(([, met]) => met) ? 0 : 1)
