/**
 * Text from dumps and peers (cluster, route and logger names, access-log fields, API Status
 * messages, kubelet errors, response bodies) reaches the user's terminal. Raw, it can write the
 * clipboard (OSC 52), retitle the window (OSC 0), forge table rows (`\n`), or reorder what is read
 * (bidi overrides). Every human-readable output goes through `escapeTerminal`, which turns C0 and
 * C1 controls, DEL and the bidi controls into visible escapes, as kubectl does for untrusted text.
 * `-o json|yaml` and `--json` never go through it: they stay exact.
 *
 * Backslashes are left alone, so the escape is not reversible (a name that literally contains
 * `\x1b` looks the same as one holding ESC): the point is that nothing reaches the terminal raw,
 * and that normal text (regex route matches included) prints byte for byte as before.
 */

// C0 (tab and newline included), DEL, C1; ALM (U+061C), LRM/RLM (U+200E/F), the line and paragraph
// separators (U+2028/9, line breaks in some terminals), bidi embeddings and overrides (U+202A-E)
// and isolates (U+2066-9).
const UNSAFE_SOURCE = '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]'
const HAS_UNSAFE = new RegExp(UNSAFE_SOURCE)
const UNSAFE = new RegExp(UNSAFE_SOURCE, 'g')
/** Whether a line of tab-separated cells holds anything escapeTerminal would change in a cell. */
export const HAS_UNSAFE_BESIDES_TAB = new RegExp(UNSAFE_SOURCE.replace('\\u0000-\\u001f', '\\u0000-\\u0008\\u000a-\\u001f'))

const NAMED: Readonly<Record<string, string>> = {'\t': '\\t', '\n': '\\n', '\r': '\\r'}

function visible(char: string): string {
  const named = NAMED[char]
  if (named) return named
  const code = char.charCodeAt(0)
  // Go's and JavaScript's notation: \xHH for ASCII controls, \uHHHH above (C1 and bidi).
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `text` with every terminal control and bidi control replaced by a visible escape. */
export function escapeTerminal(text: string): string {
  return HAS_UNSAFE.test(text) ? text.replace(UNSAFE, visible) : text
}

/** Multi-line text (a diff, metric lines): each line escaped, the line breaks kept. */
export function escapeTerminalLines(text: string): string {
  return HAS_UNSAFE.test(text) ? text.split('\n').map(escapeTerminal).join('\n') : text
}
