import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeDir } from '../../runtime/make-dir.js'
import { loadOrCreateIdentity } from '../../runtime/identity.js'
import type { DmsError } from '../../runtime/errors.js'
import { errorCodeOf, within } from '../support/settles.js'

let root = ''
test.before.each(async () => { root = await mkdtemp(join(tmpdir(), 'dms-make-dir-')) })
test.after.each(async () => { await rm(root, { recursive: true, force: true }) })



test('creates every missing level with mode 0700, and an existing directory is fine', async () => {
  const deep = join(root, 'a', 'b', 'c')
  await makeDir(deep)
  for (const dir of [join(root, 'a'), join(root, 'a', 'b'), deep]) {
    const info = await stat(dir)
    assert.ok(info.isDirectory(), dir)
    assert.is(info.mode & 0o777, 0o700, dir)
  }
  await makeDir(deep)
})

test('a file in the way is refused with the kernel\'s own error', async () => {
  await writeFile(join(root, 'file'), 'x')
  assert.is(await errorCodeOf(makeDir(join(root, 'file'))), 'EEXIST')
  assert.is(await errorCodeOf(makeDir(join(root, 'file', 'sub'))), 'ENOTDIR')
})

test('a path the kernel will never create fails instead of hanging (Node 20\'s recursive mkdir spins on it)', async () => {
  assert.is(await within(5000, errorCodeOf(makeDir('/proc/dms-net-nonexistent/x'))), 'ENOENT')
  // and so the node reports the data dir, not a hang
  const refused = await within(5000, loadOrCreateIdentity('/proc/dms-net-nonexistent/x').then(() => undefined, (err: DmsError) => err))
  assert.is(refused?.code, 'DATA_DIR_UNUSABLE')
  assert.match(refused!.message, /data dir \/proc\/dms-net-nonexistent\/x is not usable/)
})

test('generated: 30 calls at once on overlapping random paths all succeed and leave every directory', async () => {
  let seed = 7
  const next = (below: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % below }
  const paths = Array.from({ length: 30 }, () => join(root, ...Array.from({ length: 1 + next(5) }, () => `d${next(3)}`)))
  await within(10_000, Promise.all(paths.map(async (path) => { await makeDir(path) })))
  for (const path of paths) assert.ok((await stat(path)).isDirectory(), path)
})

test.run()
