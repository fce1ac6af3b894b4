// test-needs: chromium
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { runCli, startDaemon } from '../support/cli.js'
import { startInspectorServer } from '../../runtime/inspect/inspector-server.js'

const chromiumPath = '/usr/bin/chromium'
const hasChromium = await access(chromiumPath).then(() => true, () => false)

async function openPage (url: string): Promise<{ browser: Browser, page: Page }> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
  })
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  await page.goto(url)
  return { browser, page }
}

test('dms-net node --inspect: the local page shows a new peer actor and follows its state', async () => {
  if (!hasChromium) { assert.ok(true, 'no chromium: skipped (apt-get install chromium)'); return }
  const dirs = [await mkdtemp(join(tmpdir(), 'dms-insp-')), await mkdtemp(join(tmpdir(), 'dms-insp-'))]
  const a = await startDaemon(['--data', dirs[0]!, '--inspect', '0'])
  const b = await startDaemon(['--data', dirs[1]!])
  let browser: Browser | undefined
  try {
    const url = /inspector (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(a.output())![1]!
    const opened = await openPage(url)
    browser = opened.browser
    const page = opened.page
    await page.locator('#status.live').waitFor({ timeout: 10_000 })
    await page.locator('.actor', { hasText: 'host.public' }).waitFor({ timeout: 10_000 })
    assert.is(await page.locator('.actor', { hasText: `peer.public.${b.peerId}` }).count(), 0, 'no peer actor before the dial')

    const address = /listening on (\S+)/.exec(b.output())![1]!
    const dialed = await runCli(['dial', address, '--data', dirs[0]!])
    assert.is(dialed.code, 0, dialed.stderr)

    const row = page.locator('.actor', { hasText: `peer.public.${b.peerId}` })
    await row.waitFor({ timeout: 10_000 })
    await page.locator('.actor', { hasText: `peer.public.${b.peerId}` }).filter({ hasText: 'identified' }).waitFor({ timeout: 10_000 })
    // The list is redrawn whenever an actor changes: a mouse click aimed at a row can land on a row that
    // moved meanwhile (under load it did). The event goes to the row itself, wherever it is drawn now.
    await row.dispatchEvent('click')
    await page.locator('#selectedState').waitFor({ timeout: 10_000 })
    assert.is(await page.locator('#selectedState').textContent(), 'identified')
    // the peer machine's chart, with the actor's state highlighted
    await page.locator('#tabs button.on', { hasText: 'peer' }).waitFor()
    assert.is(await page.locator('svg .state.active').getAttribute('data-path'), 'identified')
    assert.ok(await page.locator('#rows .row.k-snapshot', { hasText: `peer.public.${b.peerId}` }).count() > 0, 'the log shows the peer actor\'s snapshots')

    // the peer leaves: its actor's state follows
    await b.stop()
    await page.waitForFunction("document.querySelector('#selectedState')?.textContent === 'disconnected'", undefined, { timeout: 15_000 })
    if (process.env.INSPECTOR_SCREENSHOT != null) await page.screenshot({ path: process.env.INSPECTOR_SCREENSHOT })
  } finally {
    await browser?.close()
    await a.stop()
    await b.stop()
    await Promise.all(dirs.map(async (dir) => { await rm(dir, { recursive: true, force: true }) }))
  }
})

test('a hundred peer actors: the list, the counts on the chart and the filter stay quick', async () => {
  if (!hasChromium) { assert.ok(true, 'no chromium: skipped'); return }
  const server = await startInspectorServer({ port: 0 })
  let browser: Browser | undefined
  try {
    const opened = await openPage(server.url)
    browser = opened.browser
    const page = opened.page
    await page.locator('#status.live').waitFor({ timeout: 10_000 })
    // sanitised events as a node with 100 peers produces them: actor, then snapshots as they connect
    const observe = server.observer('big')
    const started = Date.now()
    for (let i = 0; i < 100; i++) observe({ type: '@xstate.actor', actorId: `x:${i + 1}`, systemId: `peer.public.P${i}`, machineId: 'peer' })
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) {
        const value = ['dialing', 'connected', 'identified', 'connected', 'identified'][round]!
        observe({ type: '@xstate.snapshot', actorId: `x:${i + 1}`, snapshot: { value, status: 'active', context: { connections: round } }, event: { type: `peer.${value}` } })
      }
    }
    await page.waitForFunction("document.querySelectorAll('.actor').length === 100 && [...document.querySelectorAll('.actor .state')].every((el) => el.textContent === 'identified')", undefined, { timeout: 10_000 })
    const elapsed = Date.now() - started
    assert.ok(elapsed < 5000, `100 actors × 5 updates shown in ${elapsed} ms`)
    await page.locator('#tabs button', { hasText: 'peer' }).click()
    assert.is(await page.locator('svg .state[data-path="identified"] .count').textContent(), '100')
    await page.fill('#filter', 'P42')
    await page.waitForFunction("document.querySelectorAll('.actor').length === 1")
    assert.match(await page.locator('.actor').textContent() ?? '', /peer\.public\.P42/)
  } finally {
    await browser?.close()
    await server.close()
  }
})

test.run()
