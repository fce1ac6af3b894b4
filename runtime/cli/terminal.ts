/** What the terminal the CLI writes to can show: colour and width. */

/** Colour only on a terminal, and never with `NO_COLOR` set (no-color.org) or `TERM=dumb`. */
export const colour = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb'

export const paint = (code: string, text: string): string => colour ? `\x1b[${code}m${text}\x1b[0m` : text

/** Columns to fit: the terminal's width, `$COLUMNS`, or 80 when output goes to a file or pipe. */
export function terminalWidth (): number {
  const columns = process.stdout.isTTY === true ? process.stdout.columns : Number(process.env.COLUMNS)
  return Number.isInteger(columns) && columns >= 40 ? Math.min(columns, 500) : 80
}

/** Break `text` at spaces into lines of at most `width`, the next lines indented by `indent`. */
export function wrap (text: string, width: number, indent = ''): string[] {
  // each token keeps the spaces before it, so aligned columns stay aligned
  const tokens = text.match(/ *\S+/g) ?? [text]
  const lines: string[] = []
  let line = ''
  for (const token of tokens) {
    if (line.trim() !== '' && line.length + token.length > width) {
      lines.push(line)
      line = `${indent}${token.trimStart()}`
    } else {
      line += token
    }
  }
  lines.push(line)
  return lines
}

/**
 * Fit help text to `width`: a long line wraps at spaces, its next lines
 * under its description column (`  --flag X   description…`), else indented
 * two more than the line.
 */
export function fitText (text: string, width: number): string {
  return text.split('\n').flatMap((line) => {
    if (line.length <= width) return [line]
    const column = /^(\s*\S.*?\s{2,})\S/.exec(line)?.[1]?.length
    const lead = /^ */.exec(line)![0].length
    if (column != null && column + Math.max(...line.slice(column).split(' ').map((word) => word.length)) > width) {
      // a word the description column cannot hold (a peer id on a narrow terminal): the label alone, the rest under it
      return [line.slice(0, column).trimEnd(), ...wrap(`${' '.repeat(lead + 2)}${line.slice(column)}`, width, ' '.repeat(lead + 2))]
    }
    const indent = column != null && column <= width / 2 ? column : lead + 2
    return wrap(line, width, ' '.repeat(indent))
  }).join('\n')
}
