// Install step of dms-network: use the prebuilt addons for this platform when they
// load, otherwise build them from source with node-gyp. A failed build never fails
// the install (everything but the VPN and the fast cipher works without it), but it
// is reported on stderr with the command that retries it.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const require = createRequire(import.meta.url)
const names = ['tun', 'xsalsa20', 'aead']
/** What a node without each addon does instead. */
const without = {
  tun: 'the VPN (TUN devices) is unavailable',
  xsalsa20: 'private swarms use the slower JavaScript cipher',
  aead: "Noise uses Node's own ChaCha20-Poly1305 (slower)"
}
const loadsOne = (dir, name) => {
  try { require(join(dir, `${name}.node`)); return true } catch { return false }
}
const loads = (dir) => names.every((name) => loadsOne(dir, name))

const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`)
if (process.env.DMS_NET_BUILD_FROM_SOURCE !== '1' && existsSync(prebuilt) && loads(prebuilt)) process.exit(0)

// npm tells install scripts where its own node-gyp is; otherwise use one on PATH
const gyp = process.env.npm_config_node_gyp
const [command, args] = gyp != null && gyp !== '' ? [process.execPath, [gyp]] : ['node-gyp', []]
const build = spawnSync(command, [...args, 'rebuild', '--directory', join(root, 'native')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
if (build.status === 0 && loads(join(root, 'native', 'build', 'Release'))) process.exit(0)

// an addon that loads from either place is used (actors/native/addon.ts): name only those that load from neither
const missing = names.filter((name) => !loadsOne(join(root, 'native', 'build', 'Release'), name) && !loadsOne(prebuilt, name))
if (missing.length === 0) process.exit(0)
const reason = build.error != null ? build.error.message : (build.stderr ?? '').split('\n').filter((line) => /error/i.test(line)).slice(0, 3).join('\n  ')
process.stderr.write([
  `dms-network: native addon(s) ${missing.join(', ')} missing for ${process.platform}-${process.arch}: no prebuilt binary loads and the build from source failed.`,
  reason !== '' ? `  ${reason}` : '',
  `  ${missing.map((name) => without[name]).join('; ')}; everything else works.`,
  '  Install python3, make and a C++ compiler, then run: npm rebuild dms-network',
  ''
].filter((line) => line !== '').join('\n') + '\n')
