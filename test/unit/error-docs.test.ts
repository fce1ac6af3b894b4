import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFile } from 'node:fs/promises'
import { DMS_ERROR_CODES } from '../../actors/errors.js'

test('every error code is documented in docs/errors.md', async () => {
  const text = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const missing = DMS_ERROR_CODES.filter((code) => !text.includes(`\`${code}\``))
  assert.equal(missing, [])
})

test.run()
