/** What decides whether meshdbg writes ANSI colour to a stream. */
export interface ColorInputs {
  /** --no-color */
  noColorFlag?: boolean
  env: NodeJS.ProcessEnv
  /** Whether the stream is a terminal. */
  isTTY: boolean
}

/**
 * Colour on or off, as Node and most CLIs decide it: --no-color wins; then FORCE_COLOR (any value
 * but 0/false turns colour on even in a pipe, and takes precedence over NO_COLOR, as in Node);
 * then NO_COLOR (any non-empty value) and TERM=dumb turn it off; else colour only on a terminal.
 */
export function colorEnabled({noColorFlag, env, isTTY}: ColorInputs): boolean {
  if (noColorFlag) return false
  const force = env.FORCE_COLOR
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase())
  if (env.NO_COLOR) return false
  if (env.TERM === 'dumb') return false
  return isTTY
}
