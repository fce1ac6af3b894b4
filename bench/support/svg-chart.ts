/** A line chart as a small standalone SVG: x values shared by every series, y from 0. */
export interface Series { name: string, color: string, values: number[], dashed?: boolean }

export function lineChart (init: { title: string, xLabel: string, yLabel: string, x: number[], series: Series[] }): string {
  const width = 640
  const height = 360
  const left = 64
  const right = 160
  const top = 40
  const bottom = 48
  const maxX = Math.max(...init.x)
  const maxY = Math.max(1, ...init.series.flatMap((s) => s.values)) * 1.1
  const px = (x: number): number => left + (x / maxX) * (width - left - right)
  const py = (y: number): number => height - bottom - (y / maxY) * (height - top - bottom)
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY)
  const text = (x: number, y: number, body: string, anchor = 'middle'): string => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" font-family="sans-serif" font-size="12">${body}</text>`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '<rect width="100%" height="100%" fill="white"/>',
    text(width / 2, 22, init.title),
    `<line x1="${left}" y1="${py(0)}" x2="${width - right}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${left}" y1="${py(0)}" x2="${left}" y2="${top}" stroke="black"/>`,
    ...ticks.map((t) => `${text(left - 8, py(t) + 4, t.toFixed(0), 'end')}<line x1="${left}" y1="${py(t)}" x2="${width - right}" y2="${py(t)}" stroke="#ddd"/>`),
    ...init.x.map((x) => text(px(x), height - bottom + 18, String(x))),
    text((left + width - right) / 2, height - 8, init.xLabel),
    `<text x="16" y="${(top + height - bottom) / 2}" transform="rotate(-90 16 ${(top + height - bottom) / 2})" text-anchor="middle" font-family="sans-serif" font-size="12">${init.yLabel}</text>`,
    ...init.series.map((s, i) => [
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''} points="${s.values.map((v, j) => `${px(init.x[j]!).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`,
      ...s.values.map((v, j) => `<circle cx="${px(init.x[j]!).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${s.color}"/>`),
      `<line x1="${width - right + 12}" y1="${top + 10 + i * 20}" x2="${width - right + 36}" y2="${top + 10 + i * 20}" stroke="${s.color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      text(width - right + 42, top + 14 + i * 20, s.name, 'start')
    ].join('')),
    '</svg>',
    ''
  ].join('\n')
}
