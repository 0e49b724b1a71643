/**
 * One shell word for a POSIX shell: as is when it is made of safe characters only, else in single
 * quotes (an embedded quote becomes '\''), so text from a cluster never runs as `$(...)` in a
 * command a user copies.
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
