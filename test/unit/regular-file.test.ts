import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readRegularFile } from '../../runtime/regular-file.js'
import { loadOrCreateIdentity, identityFileName } from '../../runtime/identity.js'
import type { DmsError } from '../../runtime/errors.js'
import { errorCodeOf, within } from '../support/settles.js'

const cli = fileURLToPath(new URL('../../bin/dms-net.js', import.meta.url))
let root = ''
test.before.each(async () => { root = await mkdtemp(join(tmpdir(), 'dms-regular-file-')) })
test.after.each(async () => { await rm(root, { recursive: true, force: true }) })



test('a regular file is read whole; a missing one is ENOENT; a FIFO or a directory is EINVAL at once', async () => {
  await writeFile(join(root, 'file'), 'hello')
  assert.is(await readRegularFile(join(root, 'file'), 'utf8'), 'hello')
  assert.equal([...await readRegularFile(join(root, 'file'))], [...Buffer.from('hello')])
  assert.is(await errorCodeOf(readRegularFile(join(root, 'missing'))), 'ENOENT')
  execFileSync('mkfifo', [join(root, 'fifo')])
  await mkdir(join(root, 'dir'))
  for (const name of ['fifo', 'dir']) {
    const refused = await within(2000, readRegularFile(join(root, name)).then(() => undefined, (err: NodeJS.ErrnoException) => err))
    assert.is(refused?.code, 'EINVAL', name)
    assert.match(refused!.message, /is not a regular file/)
  }
})

test('a data dir whose identity.key or config.json is a FIFO fails at once with the reason (it used to hang)', async () => {
  execFileSync('mkfifo', [join(root, identityFileName)])
  const refused = await within(2000, loadOrCreateIdentity(root).then(() => undefined, (err: DmsError) => err))
  assert.match(refused!.message, /not a regular file/)
  await rm(join(root, identityFileName))
  execFileSync('mkfifo', [join(root, 'config.json')])
  const result = await within(10_000, new Promise<{ code: number | null, stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, 'node', '--data', root, '--listen', '/ip4/127.0.0.1/tcp/0'], { timeout: 9000 }, (error, _stdout, stderr) => { resolve({ code: error == null ? 0 : typeof error.code === 'number' ? error.code : null, stderr }) })
  }))
  assert.is(result.code, 1, result.stderr)
  assert.match(result.stderr, /config\.json is not a regular file/)
})

test.run()
