import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../node.js'
import { createSwarm } from '../../swarm/swarm-service.js'
import type { Parsed } from '../command.js'
import { inspectPort } from '../arguments.js'
import { demoSteps } from '../demo/steps.js'
import { statusBoard } from '../demo/status-board.js'
import { until } from '../demo/context.js'
import type { DemoContext } from '../demo/context.js'
import { colour, paint } from '../terminal.js'

const tty = colour
const bold = (text: string): string => paint('1', text)
const dim = (text: string): string => paint('2', text)
const green = (text: string): string => paint('32', text)
const red = (text: string): string => paint('31', text)

/** On a terminal, redraw the board in place until `predicate` holds; otherwise just wait. */
async function watchLive (board: () => string, what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  if (!tty) { await until(what, predicate, timeoutMs); return }
  let drawn = 0
  const draw = (): void => {
    const text = board()
    process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : ''}${dim(text)}\n`)
    drawn = text.split('\n').length
  }
  const timer = setInterval(draw, 100)
  draw()
  try {
    await until(what, predicate, timeoutMs)
    draw()
    await new Promise((resolve) => setTimeout(resolve, 400))
  } finally {
    clearInterval(timer)
    process.stdout.write(`\x1b[${drawn}A\x1b[0J`)
  }
}

/** `dms-net demo`. */
export async function runDemo ({ values }: Parsed): Promise<number> {
  const write = (line = ''): void => { process.stdout.write(`${line}\n`) }
  const port = typeof values.inspect === 'string' ? inspectPort(values.inspect) : undefined
  // the inspector (and its WebSocket library) is loaded only when asked for
  const inspector = port != null ? await (await import('../../inspect/inspector-server.js')).startInspectorServer({ port }) : undefined
  // --data keeps the three nodes' state (DIR/alice, DIR/bob, DIR/carol); otherwise a temporary directory, removed after
  const kept = typeof values.data === 'string'
  const root = kept ? values.data as string : await mkdtemp(join(tmpdir(), 'dms-demo-'))
  const names = ['alice', 'bob', 'carol']
  const nodes = names.map((name) => {
    const node = createNode({ dataDir: join(root, name), dialTimeoutMs: 3000, ...(inspector != null ? { inspect: inspector.observer(name) } : {}) })
    // members stay on the public network too, so the board keeps showing them
    return { name, node, swarm: createSwarm(node, { leavePublic: false, rejoinWindowMs: 2000 }) }
  })
  const context: DemoContext = {
    nodes,
    note: (text) => { write(`      ${dim(text)}`) },
    watch: async (what, predicate, timeoutMs) => { await watchLive(() => statusBoard(context), what, predicate, timeoutMs) }
  }
  const started = Date.now()
  let failed = false
  write(bold('dms-network demo') + dim('  — three nodes on 127.0.0.1, every concern an XState actor'))
  write()
  if (inspector != null) {
    write(`inspector ${bold(inspector.url)} ${dim(`(Stately inspector: ${inspector.statelyUrl})`)}; starting in 3 s`)
    write()
    await new Promise((resolve) => setTimeout(resolve, 3000))
  }
  try {
    for (const [index, step] of demoSteps.entries()) {
      write(`${dim(`[${index + 1}/${demoSteps.length}]`)} ${step.title}`)
      const t = Date.now()
      try {
        const result = await step.run(context)
        if (result?.startsWith('skip:') === true) write(`   ${dim('– skipped:' + result.slice(5))}`)
        else write(`   ${green('✓')} ${result ?? `done ${dim(`(${Date.now() - t} ms)`)}`}`)
      } catch (err) {
        write(`   ${red('✗')} ${(err as Error).message}`)
        failed = true
        break
      }
    }
    write()
    write(bold('Peer actors, as each node sees them'))
    write(statusBoard(context))
    if (inspector != null) {
      write()
      write(`the nodes keep running for the inspector at ${bold(inspector.url)} — Ctrl-C to finish`)
      await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
    }
  } finally {
    await Promise.allSettled(nodes.map(async ({ node }) => { await node.stop() }))
    if (!kept) await rm(root, { recursive: true, force: true })
    await inspector?.close()
  }
  write()
  write(failed ? red('demo failed') : `${green('demo finished')} in ${((Date.now() - started) / 1000).toFixed(1)} s — next: ${bold('dms-net node --help')}`)
  return failed ? 1 : 0
}
