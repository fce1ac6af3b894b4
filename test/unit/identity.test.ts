import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile, readdir, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateIdentity, identityFileName } from '../../runtime/identity.js'
import { DmsError } from '../../runtime/errors.js'

let dir = ''
test.before.each(async () => { dir = await mkdtemp(join(tmpdir(), 'dms-identity-')) })
test.after.each(async () => { await rm(dir, { recursive: true, force: true }) })

test('first run creates an identity file with mode 0600; the peer id is stable', async () => {
  const first = await loadOrCreateIdentity(join(dir, 'node'))
  assert.ok(first.created)
  const info = await stat(join(dir, 'node', identityFileName))
  assert.is(info.mode & 0o777, 0o600)
  const second = await loadOrCreateIdentity(join(dir, 'node'))
  assert.not.ok(second.created)
  assert.is(second.peerId, first.peerId)
  assert.ok(first.peerId.startsWith('12D3KooW'))
  // no temp files are left behind by the atomic write
  assert.equal(await readdir(join(dir, 'node')), [identityFileName])
})

test('a corrupt identity file gives a clear error naming the file', async () => {
  await writeFile(join(dir, identityFileName), 'not a key')
  try {
    await loadOrCreateIdentity(dir)
    assert.unreachable('corrupt identity accepted')
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, 'IDENTITY_UNREADABLE')
    assert.match((err as Error).message, join(dir, identityFileName))
    assert.match((err as Error).message, /corrupt/)
  }
})

test('a data dir that cannot be created is reported as unusable', async () => {
  await writeFile(join(dir, 'file'), 'x')
  try {
    await loadOrCreateIdentity(join(dir, 'file', 'sub'))
    assert.unreachable('unusable dir accepted')
  } catch (err) {
    assert.is((err as DmsError).code, 'DATA_DIR_UNUSABLE')
    assert.match((err as Error).message, /data dir .*file\/sub is not usable/)
  }
})

test('a read-only data dir without identity is reported (as non-root only)', async () => {
  if (process.getuid?.() === 0) {
    // root ignores directory permissions; the check above covers the error path
    assert.ok(true)
    return
  }
  await chmod(dir, 0o500)
  try {
    await loadOrCreateIdentity(dir)
    assert.unreachable('read-only dir accepted')
  } catch (err) {
    assert.is((err as DmsError).code, 'DATA_DIR_UNUSABLE')
  } finally {
    await chmod(dir, 0o700)
  }
})

test.run()
