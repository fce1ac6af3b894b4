import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error a plain JavaScript script without declarations
import { checkLayers } from '../../bin/check-layers.js'

const check = checkLayers as (root?: string) => string[]

test('the project keeps its layers: machines import only xstate and machines, actors free of runtime, no file over 300 lines, no silent catch', () => {
  assert.equal(check(), [])
})

test('each kind of violation is found and named', async () => {
  const root = await mkdtemp(join(tmpdir(), 'layers-'))
  try {
    for (const dir of ['machines', 'actors/wire', 'runtime']) await mkdir(join(root, dir), { recursive: true })
    await writeFile(join(root, 'actors/wire/format.ts'), 'export interface Format { a: number }\n')
    await writeFile(join(root, 'machines/ok.ts'), "import { setup } from 'xstate'\nimport type { Shared } from './contracts.js'\nimport { other } from './other.js'\n")
    await writeFile(join(root, 'machines/impure.ts'), "import { createNode } from '../runtime/node.js'\nimport type { Libp2p } from '@libp2p/interface'\nimport type { Format } from '../actors/wire/format.js'\n")
    await writeFile(join(root, 'actors/up.ts'), "export { DmsError } from '../runtime/errors.js'\nconst later = await import('../runtime/late.js')\n")
    await writeFile(join(root, 'runtime/long.ts'), 'export const x = 1\n'.repeat(301))
    await writeFile(join(root, 'machines/casts.ts'), "const a = (event as { id: string }).id\nconst b = fact as unknown as PeerEvent\nconst c = eventOf(event, 'x').id\n")
    await writeFile(join(root, 'runtime/quiet.ts'), [
      'await stop().catch(() => {})',
      'await close().catch(() => {}) // the peer reset it already',
      '// nothing to remove when it is gone',
      'await unlink(p).catch(() => {})',
      'try { a() } catch {}',
      'try { b() } catch (err) { }',
      'try { c() } catch { /* best effort */ }'
    ].join('\n') + '\n')
    const problems = check(root)
    assert.equal(problems.filter((p) => p.startsWith('machines/ok.ts')), [], 'xstate and machines/ are allowed')
    assert.ok(problems.some((p) => p.startsWith('machines/impure.ts: imports ../runtime/node.js')))
    assert.ok(problems.some((p) => p.startsWith('machines/impure.ts: imports @libp2p/interface')))
    assert.ok(problems.some((p) => p.startsWith('machines/impure.ts: imports ../actors/wire/format.js')), 'not even a type from actors/: shared types live in machines/')
    assert.is(problems.filter((p) => p.startsWith('actors/up.ts')).length, 2, 'static re-exports and dynamic imports count')
    assert.ok(problems.some((p) => p.startsWith('runtime/long.ts: 301 lines')))
    assert.equal(problems.filter((p) => p.startsWith('machines/casts.ts')).map((p) => p.split(':')[1]), ['1', '2'], 'event casts in machines/ are named by line')
    assert.equal(problems.filter((p) => p.startsWith('runtime/quiet.ts')).map((p) => p.split(':')[1]), ['1', '5', '6'], 'silent catches are named by line; commented ones pass')
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

test.run()
